import type { ServerEvents } from '../gateway/server-events.js';

/** The `/notifications` namespace's contract: server push only. */
export const NOTIFICATIONS_NAMESPACE = '/notifications';

export const NotificationEvent = {
  Notification: 'notification',
} as const;

/** The room every socket of a user joins in `/notifications`. */
export function userRoom(userId: string): `user:${string}` {
  return `user:${userId}`;
}

export interface Notification<TData = unknown> {
  readonly id: string;
  readonly type: string;
  readonly data: TData;
  readonly ts: number;
}

export type NotificationsClientToServerEvents = Record<string, never>;

export interface NotificationsServerToClientEvents extends ServerEvents {
  [NotificationEvent.Notification]: (notification: Notification) => void;
}
