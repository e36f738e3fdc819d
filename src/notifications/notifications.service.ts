import { Injectable } from '@nestjs/common';
import { eventId } from '../common/event-id.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { NotificationsGateway } from './notifications.gateway.js';
import {
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type Notification,
  userRoom,
} from './notifications.events.js';

/**
 * Sends a notification to every socket of a user. Other modules import
 * `NotificationsModule` and call `notifyUser`.
 *
 * @example
 * ```ts
 * await notifications.notifyUser('alice', 'invoice.paid', { invoiceId: 'inv_42' });
 * ```
 */
@Injectable()
export class NotificationsService {
  private readonly emitted;

  constructor(
    private readonly gateway: NotificationsGateway,
    metrics: MetricsService,
  ) {
    this.emitted = metrics.emitted(NOTIFICATIONS_NAMESPACE, NotificationEvent.Notification);
  }

  notifyUser<TData>(userId: string, type: string, data: TData): Notification<TData> {
    const ts = Date.now();
    const notification: Notification<TData> = { id: eventId(ts), type, data, ts };
    this.gateway.namespace.to(userRoom(userId)).emit(NotificationEvent.Notification, notification);
    this.emitted.inc();
    return notification;
  }
}
