import { Inject } from '@nestjs/common';
import {
  ConnectedSocket,
  type OnGatewayConnection,
  type OnGatewayInit,
  SubscribeMessage,
  WebSocketServer,
} from '@nestjs/websockets';
import type { Logger } from 'pino';
import { APP_LOGGER } from '../logging/logging.module.js';
import { Acks } from '../gateway/contract-metadata.js';
import { Payload, RealtimeGateway } from '../gateway/realtime-gateway.decorator.js';
import { DEFAULT_INBOX_PAGE, InboxListSchema, InboxReadSchema } from './dto/inbox.schemas.js';
import {
  InboxListResultSchema,
  InboxReadResultSchema,
  NOTIFICATIONS_EMITS,
} from './dto/notifications-output.schemas.js';
import {
  type InboxListAck,
  type InboxListPayload,
  type InboxReadAck,
  type InboxReadPayload,
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  userRoom,
} from './notifications.events.js';
import type { NotificationsNamespace, NotificationsSocket } from './notifications.socket.js';
import { NotificationsService } from './notifications.service.js';

/** Puts each socket in its user's room, tells it the unread count, and serves the inbox. */
@RealtimeGateway(NOTIFICATIONS_NAMESPACE, { emits: NOTIFICATIONS_EMITS })
export class NotificationsGateway
  implements OnGatewayInit<NotificationsNamespace>, OnGatewayConnection<NotificationsSocket>
{
  @WebSocketServer()
  readonly namespace!: NotificationsNamespace;

  constructor(
    private readonly notifications: NotificationsService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  afterInit(namespace: NotificationsNamespace): void {
    this.notifications.bind(namespace);
  }

  /** Never rejects: NestJS does not await it, so a rejection would be unhandled. */
  async handleConnection(socket: NotificationsSocket): Promise<void> {
    const { id } = socket.data.user;
    try {
      await socket.join(userRoom(id));
    } catch (error) {
      this.logger.error({ err: error, socketId: socket.id }, 'could not join the user room');
      socket.disconnect(true);
      return;
    }
    try {
      const unread = await this.notifications.unread(id);
      if (socket.connected) socket.emit(NotificationEvent.InboxUnread, unread);
    } catch (error) {
      // The socket still gets live notifications; the count comes with the next change.
      this.logger.warn({ err: error, socketId: socket.id }, 'could not read the unread count');
    }
  }

  @SubscribeMessage(NotificationEvent.InboxList)
  @Acks({ result: InboxListResultSchema })
  async list(
    @ConnectedSocket() socket: NotificationsSocket,
    @Payload(InboxListSchema) { before, limit }: InboxListPayload,
  ): Promise<InboxListAck> {
    const { id } = socket.data.user;
    const notifications = await this.notifications.list(id, before, limit ?? DEFAULT_INBOX_PAGE);
    return { ok: true, notifications };
  }

  @SubscribeMessage(NotificationEvent.InboxRead)
  @Acks({ result: InboxReadResultSchema })
  async read(
    @ConnectedSocket() socket: NotificationsSocket,
    @Payload(InboxReadSchema) payload: InboxReadPayload,
  ): Promise<InboxReadAck> {
    const ids = 'all' in payload ? 'all' : payload.ids;
    return { ok: true, unread: await this.notifications.markRead(socket.data.user.id, ids) };
  }
}
