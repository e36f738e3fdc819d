import type { ServerEvents } from '../gateway/server-events.js';
import type { Ack, AckCallback } from '../gateway/ws-error.js';

/** The `/notifications` namespace's contract: pushes, and each user's inbox. */
export const NOTIFICATIONS_NAMESPACE = '/notifications';

export const NotificationEvent = {
  Notification: 'notification',
  InboxUnread: 'inbox:unread',
  InboxList: 'inbox:list',
  InboxRead: 'inbox:read',
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

/** A kept notification, with whether its user has read it. */
export interface InboxItem extends Notification {
  readonly read: boolean;
}

export interface InboxListPayload {
  /** The id to page before (the last one of the previous page). */
  readonly before?: string;
  readonly limit?: number;
}

export type InboxReadPayload = { readonly ids: readonly string[] } | { readonly all: true };

export interface UnreadCount {
  readonly count: number;
  /**
   * Grows with every change of the user's inbox. Counts sent from different instances can
   * arrive out of order: keep the one with the highest version.
   */
  readonly version: number;
}

export type InboxListAck = Ack<{ notifications: InboxItem[] }>;
export type InboxReadAck = Ack<{ unread: number }>;

export interface NotificationsClientToServerEvents {
  [NotificationEvent.InboxList]: (
    payload: InboxListPayload,
    ack: AckCallback<{ notifications: InboxItem[] }>,
  ) => void;
  [NotificationEvent.InboxRead]: (
    payload: InboxReadPayload,
    ack: AckCallback<{ unread: number }>,
  ) => void;
}

export interface NotificationsServerToClientEvents extends ServerEvents {
  [NotificationEvent.Notification]: (notification: Notification) => void;
  /** On connect, and to every socket of the user whenever the count changes. */
  [NotificationEvent.InboxUnread]: (unread: UnreadCount) => void;
}
