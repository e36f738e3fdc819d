import type { PipeTransform } from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { WsError } from './ws-error.js';

/**
 * Validates a message payload against any Standard Schema (zod 4, valibot, arktype, …) and
 * answers `VALIDATION` with the first problem's path and message.
 */
export class PayloadValidationPipe<T> implements PipeTransform<unknown, T> {
  /** Public: the AsyncAPI document shows the payload from this very schema. */
  constructor(readonly schema: StandardSchemaV1<unknown, T>) {}

  transform(value: unknown): T {
    const result = this.schema['~standard'].validate(value);
    if (result instanceof Promise) {
      throw new TypeError('PayloadValidationPipe needs a synchronous schema');
    }
    if (result.issues) throw new WsError('VALIDATION', describeIssue(result.issues[0]));
    return result.value;
  }
}

/** The first problem as `path: message`. */
export function describeIssue(issue: StandardSchemaV1.Issue | undefined): string {
  if (!issue) return 'Invalid payload';
  const path = (issue.path ?? [])
    .map((segment) => (typeof segment === 'object' ? segment.key : segment))
    .map(String)
    .join('.');
  return path ? `${path}: ${issue.message}` : issue.message;
}
