import type { AnySchema, EmittedEvents } from '../gateway/contract-metadata.js';
import { SERVER_EVENT_SCHEMAS, FailureSchema } from '../gateway/wire.schemas.js';
import { ERROR_CODES, type ErrorCode } from '../gateway/ws-error.js';
import type { GatewayContract, HandlerContract } from './gateway-contract.js';
import {
  CONNECT_ERRORS,
  HANDSHAKE_BINDING,
  HTTP_REFUSAL_SCHEMA,
  HTTP_REFUSALS,
  refusalsMarkdown,
  SECURITY_SCHEMES,
} from './handshake-contract.js';
import { type JsonSchema, jsonSchemaOf } from './json-schema.js';

export type AsyncApiDocument = Record<string, unknown> & {
  readonly asyncapi: '3.0.0';
  readonly info: DocumentInfo & { readonly description: string };
  readonly channels: Record<string, AsyncApiChannel>;
  readonly operations: Record<string, AsyncApiOperation>;
};

export interface AsyncApiMessage {
  readonly name: string;
  readonly title: string;
  readonly summary?: string;
  readonly payload?: JsonSchema;
}

export interface AsyncApiChannel {
  readonly address: string;
  readonly messages: Record<string, AsyncApiMessage>;
  readonly [key: string]: unknown;
}

export interface AsyncApiOperation {
  readonly action: 'send' | 'receive';
  readonly channel: Ref;
  readonly messages: readonly Ref[];
  readonly reply?: { readonly channel: Ref; readonly messages: readonly Ref[] };
  readonly [key: string]: unknown;
}

interface Ref {
  readonly $ref: string;
}

export interface DocumentInfo {
  readonly title: string;
  readonly version: string;
}

/** Codes any handler may answer: the dispatcher's and the error filter's. */
const EVERY_HANDLER_ERRORS: readonly ErrorCode[] = ['VALIDATION', 'RATE_LIMITED', 'INTERNAL'];
const SERVER = 'app';

/**
 * The AsyncAPI 3.0.0 document of the gateways: one channel per namespace; for each event a
 * client sends, a `receive` operation with its payload and its ack as the reply; for each
 * event the server sends, a `send` operation. Pure: the same gateways give the same text.
 */
export function buildAsyncApiDocument(
  info: DocumentInfo,
  gateways: readonly GatewayContract[],
): AsyncApiDocument {
  const channels: Record<string, AsyncApiChannel> = {};
  const operations: Record<string, AsyncApiOperation> = {};
  for (const gateway of gateways) {
    const channelId = uniqueKey(idOf(gateway.namespace), channels);
    const channel = channelOf(gateway);
    channels[channelId] = channel;
    const ref = (key: string): Ref => ({
      $ref: `#/channels/${pointer(channelId)}/messages/${pointer(key)}`,
    });
    for (const handler of gateway.handlers) {
      const key = uniqueKey(idOf(handler.event), channel.messages);
      channel.messages[key] = clientMessage(handler);
      channel.messages[`${key}.ack`] = ackMessage(handler);
      operations[`${channelId}.${key}`] = {
        action: 'receive',
        title: `${handler.event} (client to server)`,
        channel: { $ref: `#/channels/${pointer(channelId)}` },
        messages: [ref(key)],
        reply: {
          channel: { $ref: `#/channels/${pointer(channelId)}` },
          messages: [ref(`${key}.ack`)],
        },
      };
    }
    for (const [event, schema] of Object.entries(emitsOf(gateway.emits))) {
      const key = uniqueKey(idOf(event), channel.messages);
      channel.messages[key] = serverMessage(event, schema);
      operations[`${channelId}.${key}`] = {
        action: 'send',
        title: `${event} (server to client)`,
        channel: { $ref: `#/channels/${pointer(channelId)}` },
        messages: [ref(key)],
      };
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      ...info,
      description:
        'The Socket.IO contract of every namespace, generated from the gateways. Each ' +
        'client-to-server event answers through its Socket.IO ack (the reply); a failure is ' +
        '`{ ok: false, error: { code, message } }`, sent on `exception` when the event had no ack.',
    },
    defaultContentType: 'application/json',
    servers: {
      [SERVER]: {
        host: '{host}',
        pathname: '/socket.io',
        protocol: 'ws',
        title: 'Socket.IO 4 over WebSocket, or HTTP long-polling (WS_TRANSPORTS)',
        description: refusalsMarkdown(),
        variables: { host: { default: 'localhost:3000', description: 'HOST and PORT' } },
        security: Object.keys(SECURITY_SCHEMES).map((name) => ({
          $ref: `#/components/securitySchemes/${name}`,
        })),
        'x-http-refusals': HTTP_REFUSALS,
        'x-connect-errors': CONNECT_ERRORS,
      },
    },
    channels,
    operations,
    components: {
      schemas: { HttpRefusal: HTTP_REFUSAL_SCHEMA },
      securitySchemes: SECURITY_SCHEMES,
      channelBindings: { handshake: { ws: HANDSHAKE_BINDING } },
    },
  };
}

function channelOf(gateway: GatewayContract): AsyncApiChannel {
  return {
    messages: {},
    address: gateway.namespace,
    title: `Namespace ${gateway.namespace}`,
    description:
      'A Socket.IO namespace: `io(url + "' + gateway.namespace + '", { auth: { token } })`.',
    bindings: { $ref: '#/components/channelBindings/handshake' },
  };
}

function clientMessage({ event, payload }: HandlerContract): AsyncApiMessage {
  return {
    name: event,
    title: event,
    ...(payload
      ? { payload: jsonSchemaOf(payload, 'input') }
      : { summary: 'Payload not declared (no @Payload schema).' }),
  };
}

function ackMessage({ event, ack }: HandlerContract): AsyncApiMessage {
  const declared = ack?.errors ?? [];
  const codes = ERROR_CODES.filter(
    (code) => EVERY_HANDLER_ERRORS.includes(code) || declared.includes(code),
  );
  const success = ack
    ? withOk(ack.result ? jsonSchemaOf(ack.result, 'output') : { type: 'object' })
    : {
        ...withOk({ type: 'object' }),
        description: 'Success; its other fields are not declared (no @Acks).',
      };
  return {
    name: `${event} ack`,
    title: `${event} ack`,
    summary: `The ack of ${event}: success, or a failure with one of ${codes.join(', ')}.`,
    payload: { oneOf: [success, failureWith(codes)] },
  };
}

function serverMessage(event: string, schema: AnySchema): AsyncApiMessage {
  return { name: event, title: event, payload: jsonSchemaOf(schema, 'output') };
}

/** The gateway's own events, then those every namespace sends. */
function emitsOf(emits: EmittedEvents): EmittedEvents {
  return { ...emits, ...SERVER_EVENT_SCHEMAS };
}

function withOk(result: JsonSchema): JsonSchema {
  const properties = (result['properties'] ?? {}) as JsonSchema;
  const required = (result['required'] ?? []) as string[];
  if (result['type'] !== 'object') return { allOf: [withOk({ type: 'object' }), result] };
  return {
    ...result,
    properties: { ok: { type: 'boolean', const: true }, ...properties },
    required: ['ok', ...required],
  };
}

function failureWith(codes: readonly ErrorCode[]): JsonSchema {
  const failure = jsonSchemaOf(FailureSchema, 'output') as {
    properties: { error: { properties: { code: JsonSchema } } };
  };
  failure.properties.error.properties.code = { type: 'string', enum: [...codes] };
  return failure;
}

/** An id for a map key: `room:join` -> `room_join`, `/chat` -> `chat`, `/` -> `root`. */
function idOf(name: string): string {
  const id = name.replace(/^\/+/, '').replace(/[^A-Za-z0-9_-]+/g, '_');
  return id || 'root';
}

function uniqueKey(id: string, taken: object): string {
  let key = id;
  for (let n = 2; key in taken || `${key}.ack` in taken; n++) key = `${id}_${n}`;
  return key;
}

/** A JSON Pointer segment. */
function pointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
