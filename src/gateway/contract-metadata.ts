import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { PayloadValidationPipe } from './payload-validation.pipe.js';
import type { ErrorCode } from './ws-error.js';

/** Any Standard Schema (zod 4, valibot, arktype…). */
export type AnySchema = StandardSchemaV1<unknown, unknown>;

/** What a gateway says it sends, beside its acks: event name -> payload schema. */
export type EmittedEvents = Readonly<Record<string, AnySchema>>;

export interface AckDeclaration {
  /** The fields of a successful ack beside `ok: true`; without it the ack is `{ ok: true }`. */
  readonly result?: AnySchema;
  /**
   * The codes this handler answers itself. `VALIDATION`, `RATE_LIMITED` and `INTERNAL` may
   * answer any handler and need not be listed.
   */
  readonly errors?: readonly ErrorCode[];
}

const PAYLOAD_PIPE = 'realtime:payload_pipe';
const ACK = 'realtime:ack';
const EMITS = 'realtime:emits';

/**
 * Declares a handler's ack for the AsyncAPI document (`GET /asyncapi.json`). The handler's
 * return type stays the TypeScript contract; this is what clients in other languages read.
 *
 * @example
 * ```ts
 * @SubscribeMessage(ChatEvent.MessageSend)
 * @Acks({ result: SendResultSchema, errors: ['NOT_IN_ROOM', 'FORBIDDEN'] })
 * send(...) { ... }
 * ```
 */
export function Acks(declaration: AckDeclaration = {}): MethodDecorator {
  return (target, key) => Reflect.defineMetadata(ACK, declaration, target, key);
}

/** Recorded by `@RealtimeGateway(namespace, { emits })`. */
export function recordEmits(target: object, emits: EmittedEvents): void {
  Reflect.defineMetadata(EMITS, emits, target);
}

/** Recorded by `@Payload(schema)`: the very pipe that validates the handler's payload. */
export function recordPayloadPipe(
  target: object,
  key: string | symbol,
  pipe: PayloadValidationPipe<unknown>,
): void {
  Reflect.defineMetadata(PAYLOAD_PIPE, pipe, target, key);
}

export function payloadSchemaOf(prototype: object, method: string): AnySchema | undefined {
  const pipe = Reflect.getMetadata(PAYLOAD_PIPE, prototype, method) as
    PayloadValidationPipe<unknown> | undefined;
  return pipe?.schema;
}

export function ackDeclarationOf(prototype: object, method: string): AckDeclaration | undefined {
  return Reflect.getMetadata(ACK, prototype, method) as AckDeclaration | undefined;
}

export function emittedEventsOf(gateway: object): EmittedEvents {
  return (Reflect.getMetadata(EMITS, gateway) as EmittedEvents | undefined) ?? {};
}

/** `T` with `readonly` taken off, at every depth. */
type Plain<T> = T extends readonly (infer U)[]
  ? Plain<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Plain<T[K]> }
    : T;
/** Identical types: the same fields, each optional or not alike, with identical types. */
type Same<A, B> =
  (<X>() => X extends Plain<A> ? 1 : 2) extends <X>() => X extends Plain<B> ? 1 : 2 ? true : false;
/** `true` when what a schema outputs is exactly `T` (readonly aside). */
export type Describes<S extends AnySchema, T> = Same<StandardSchemaV1.InferOutput<S>, T>;
/** A compile-time assertion: `Expect<Describes<typeof Schema, Type>>`. */
export type Expect<T extends true> = T;
