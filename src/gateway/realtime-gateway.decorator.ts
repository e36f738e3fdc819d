import { applyDecorators, UseFilters } from '@nestjs/common';
import { MessageBody, WebSocketGateway } from '@nestjs/websockets';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { PayloadValidationPipe } from './payload-validation.pipe.js';
import { WsErrorFilter } from './ws-error.filter.js';

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
export function RealtimeGateway(namespace: string): ClassDecorator {
  return applyDecorators(WebSocketGateway({ namespace }), UseFilters(WsErrorFilter));
}

/** The message payload, validated against a Standard Schema (a zod schema, for instance). */
export function Payload<T>(schema: StandardSchemaV1<unknown, T>): ParameterDecorator {
  return MessageBody(new PayloadValidationPipe(schema));
}
