import { Inject } from '@nestjs/common';
import { type OnGatewayConnection, WebSocketServer } from '@nestjs/websockets';
import type { Logger } from 'pino';
import { APP_LOGGER } from '../logging/logging.module.js';
import { RealtimeGateway } from '../gateway/realtime-gateway.decorator.js';
import type { AppNamespace, AppSocket } from '../gateway/socket-types.js';
import {
  NOTIFICATIONS_NAMESPACE,
  type NotificationsClientToServerEvents,
  type NotificationsServerToClientEvents,
  userRoom,
} from './notifications.events.js';

export type NotificationsSocket = AppSocket<
  NotificationsClientToServerEvents,
  NotificationsServerToClientEvents
>;
export type NotificationsNamespace = AppNamespace<
  NotificationsClientToServerEvents,
  NotificationsServerToClientEvents
>;

/** Puts each socket in its user's room; `NotificationsService` pushes to that room. */
@RealtimeGateway(NOTIFICATIONS_NAMESPACE)
export class NotificationsGateway implements OnGatewayConnection<NotificationsSocket> {
  @WebSocketServer()
  readonly namespace!: NotificationsNamespace;

  constructor(@Inject(APP_LOGGER) private readonly logger: Logger) {}

  /** Never rejects: NestJS does not await it, so a rejection would be unhandled. */
  async handleConnection(socket: NotificationsSocket): Promise<void> {
    try {
      await socket.join(userRoom(socket.data.user.id));
    } catch (error) {
      this.logger.error({ err: error, socketId: socket.id }, 'could not join the user room');
      socket.disconnect(true);
    }
  }
}
