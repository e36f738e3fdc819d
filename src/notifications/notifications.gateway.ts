import { type OnGatewayConnection, WebSocketServer } from '@nestjs/websockets';
import { RealtimeGateway } from '../realtime/realtime-gateway.decorator.js';
import type { AppNamespace, AppSocket } from '../realtime/socket-types.js';
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

  async handleConnection(socket: NotificationsSocket): Promise<void> {
    await socket.join(userRoom(socket.data.user.id));
  }
}
