import type { Type } from '@nestjs/common';
import { gatewayDeclarationOf } from '../compat/nest-websockets.js';
import {
  type AckDeclaration,
  type AnySchema,
  ackDeclarationOf,
  type EmittedEvents,
  emittedEventsOf,
  payloadSchemaOf,
} from '../gateway/contract-metadata.js';

export interface HandlerContract {
  readonly event: string;
  /** The schema `@Payload(schema)` validates with; none: the payload is not declared. */
  readonly payload?: AnySchema;
  /** From `@Acks`; none: the ack's success shape is not declared. */
  readonly ack?: AckDeclaration;
}

export interface GatewayContract {
  readonly namespace: string;
  readonly handlers: readonly HandlerContract[];
  readonly emits: EmittedEvents;
}

/**
 * The contract of each gateway class among `metatypes` (other classes are skipped), one per
 * namespace, sorted by namespace: what the decorators the gateway author wrote recorded.
 */
export function gatewayContracts(metatypes: readonly Type[]): GatewayContract[] {
  const byNamespace = new Map<string, GatewayContract>();
  for (const metatype of new Set(metatypes)) {
    const contract = gatewayContractOf(metatype);
    if (!contract) continue;
    const same = byNamespace.get(contract.namespace);
    byNamespace.set(contract.namespace, same ? merge(same, contract) : contract);
  }
  return [...byNamespace.values()].sort((a, b) => a.namespace.localeCompare(b.namespace));
}

function gatewayContractOf(metatype: Type): GatewayContract | undefined {
  const declaration = gatewayDeclarationOf(metatype);
  if (!declaration) return undefined;
  const prototype = metatype.prototype as object;
  const namespace = namespaceOf(declaration.namespace);
  if (namespace === undefined) return undefined;
  return {
    namespace,
    handlers: declaration.handlers.map(({ event, methodName }) => ({
      event: String(event),
      payload: payloadSchemaOf(prototype, methodName),
      ack: ackDeclarationOf(prototype, methodName),
    })),
    emits: emittedEventsOf(metatype),
  };
}

/** A dynamic namespace (a function) has no name to show. */
function namespaceOf(namespace: unknown): string | undefined {
  if (namespace === undefined) return '/';
  if (typeof namespace === 'string') return namespace;
  return namespace instanceof RegExp ? namespace.toString() : undefined;
}

/** Two gateways on one namespace: one channel with the handlers and events of both. */
function merge(a: GatewayContract, b: GatewayContract): GatewayContract {
  return {
    namespace: a.namespace,
    handlers: [...a.handlers, ...b.handlers],
    emits: { ...a.emits, ...b.emits },
  };
}
