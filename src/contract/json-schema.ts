import type { StandardJSONSchemaV1 } from '@standard-schema/spec';
import { z } from 'zod';
import type { AnySchema } from '../gateway/contract-metadata.js';

export type JsonSchema = Record<string, unknown>;

/**
 * A payload schema as JSON Schema (draft-07, which AsyncAPI 3 schemas extend): `input` for
 * what a client may send, `output` for what the server sends. Zod through `z.toJSONSchema`;
 * other Standard Schema libraries through their Standard JSON Schema converter when they have
 * one. A part JSON Schema cannot express (a refinement, a transform) is left open, so the
 * document never fails to build.
 */
export function jsonSchemaOf(schema: AnySchema, io: 'input' | 'output'): JsonSchema {
  const converted = isZod(schema)
    ? z.toJSONSchema(schema, { io, target: 'draft-07', unrepresentable: 'any' })
    : standardJsonSchema(schema, io);
  if (!converted) {
    return { description: `Not expressible as JSON Schema (${schema['~standard'].vendor})` };
  }
  const schemaOnly: JsonSchema = { ...converted };
  delete schemaOnly['$schema'];
  return io === 'output' ? open(schemaOnly) : schemaOnly;
}

/**
 * What the server sends may gain fields in a minor release (docs/contract-compatibility.md):
 * its objects are left open, so a client generated from the document does not refuse them.
 */
function open(schema: unknown): JsonSchema {
  if (Array.isArray(schema)) return schema.map(open) as unknown as JsonSchema;
  if (typeof schema !== 'object' || schema === null) return schema as JsonSchema;
  const entries = Object.entries(schema)
    .filter(([key, value]) => !(key === 'additionalProperties' && value === false))
    .map(([key, value]) => [key, open(value)]);
  return Object.fromEntries(entries) as JsonSchema;
}

function isZod(schema: AnySchema): schema is AnySchema & z.core.$ZodType {
  return '_zod' in schema && schema['~standard'].vendor === 'zod';
}

function standardJsonSchema(schema: AnySchema, io: 'input' | 'output'): JsonSchema | undefined {
  const standard = schema['~standard'] as Partial<StandardJSONSchemaV1.Props>;
  try {
    return standard.jsonSchema?.[io]({ target: 'draft-07' });
  } catch {
    return undefined;
  }
}
