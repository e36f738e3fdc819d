import { applyDecorators, UseFilters } from '@nestjs/common';
import { MessageBody, WebSocketGateway } from '@nestjs/websockets';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { type EmittedEvents, recordEmits, recordPayloadPipe } from './contract-metadata.js';
import { PayloadValidationPipe } from './payload-validation.pipe.js';
import { WsErrorFilter } from './ws-error.filter.js';

export interface RealtimeGatewayOptions {
  /**
   * The events this namespace sends to its clients, with their payload schemas, for the
   * AsyncAPI document (`GET /asyncapi.json`). `server:draining` and `exception` are added.
   */
  readonly emits?: EmittedEvents;
}

/**
 * Declares a gateway on an authenticated namespace with the template's error shape.
 * The adapter gives every such namespace handshake auth, rate limiting, metrics and
 * connection logs; this decorator adds the exception filter that turns failures into acks.
 *
 * @example
 * ```ts
 * @RealtimeGateway('/dashboard')
 * export class DashboardGateway {
 *   @SubscribeMessage(DashboardEvent.Subscribe)
 *   subscribe(@ConnectedSocket() socket: AppSocket, @Payload(SubscribeSchema) body: Subscribe) {
 *     return { ok: true, widget: body.widget };
 *   }
 * }
 * ```
 */
export function RealtimeGateway(
  namespace: string,
  { emits = {} }: RealtimeGatewayOptions = {},
): ClassDecorator {
  return applyDecorators(
    WebSocketGateway({ namespace }),
    UseFilters(WsErrorFilter),
    (target: object) => recordEmits(target, emits),
  );
}

/** The message payload, validated against a Standard Schema (a zod schema, for instance). */
export function Payload<T>(schema: StandardSchemaV1<unknown, T>): ParameterDecorator {
  const pipe = new PayloadValidationPipe(schema);
  const body = MessageBody(pipe);
  return (target, key, index) => {
    body(target, key, index);
    if (key !== undefined) recordPayloadPipe(target, key, pipe);
  };
}
