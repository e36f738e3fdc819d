import { Inject, Injectable } from '@nestjs/common';
import { eventId } from '../common/event-id.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { INBOX, type Inbox, type InboxItem } from './inbox/inbox.js';
import {
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type Notification,
  type UnreadCount,
  userRoom,
} from './notifications.events.js';
import type { NotificationsNamespace } from './notifications.socket.js';

/**
 * Sends a notification to a user: kept in the user's inbox (also while they are offline),
 * then pushed to every socket of that user on every instance, with the new unread count.
 * Other modules import `NotificationsModule` and call `notifyUser`.
 *
 * @example
 * ```ts
 * await notifications.notifyUser('alice', 'invoice.paid', { invoiceId: 'inv_42' });
 * ```
 */
@Injectable()
export class NotificationsService {
  private readonly emitted;
  private namespace: NotificationsNamespace | undefined;

  constructor(
    @Inject(INBOX) private readonly inbox: Inbox,
    metrics: MetricsService,
  ) {
    this.emitted = {
      notification: metrics.emitted(NOTIFICATIONS_NAMESPACE, NotificationEvent.Notification),
      unread: metrics.emitted(NOTIFICATIONS_NAMESPACE, NotificationEvent.InboxUnread),
    };
  }

  bind(namespace: NotificationsNamespace): void {
    this.namespace = namespace;
  }

  /** Rejects, pushing nothing, when the inbox cannot keep it (Redis unreachable). */
  async notifyUser<TData>(userId: string, type: string, data: TData): Promise<Notification<TData>> {
    const ts = Date.now();
    const notification: Notification<TData> = { id: eventId(ts), type, data, ts };
    const unread = await this.inbox.add(userId, notification);
    const room = this.namespace?.to(userRoom(userId));
    room?.emit(NotificationEvent.Notification, notification);
    room?.emit(NotificationEvent.InboxUnread, unread);
    this.emitted.notification.inc();
    this.emitted.unread.inc();
    return notification;
  }

  list(userId: string, before: string | undefined, limit: number): Promise<InboxItem[]> {
    return this.inbox.list(userId, before, limit);
  }

  unread(userId: string): Promise<UnreadCount> {
    return this.inbox.unread(userId);
  }

  /** Marks read and tells every socket of the user, on every instance, the new count. */
  async markRead(userId: string, ids: readonly string[] | 'all'): Promise<number> {
    const unread = await this.inbox.markRead(userId, ids);
    this.namespace?.to(userRoom(userId)).emit(NotificationEvent.InboxUnread, unread);
    this.emitted.unread.inc();
    return unread.count;
  }
}
