import type { InboxItem, Notification, UnreadCount } from '../notifications.events.js';

export type { InboxItem };

/**
 * Each user's notifications: the newest `INBOX_SIZE` (read or not) for at most `INBOX_TTL_S`
 * after the last one arrived. Ids sort by time, so pages go by id.
 */
export interface Inbox {
  /** Keeps the notification; resolves to the user's unread count. */
  add(userId: string, notification: Notification): Promise<UnreadCount>;
  /** Newest first; `before` an id, for the next page. */
  list(userId: string, before: string | undefined, limit: number): Promise<InboxItem[]>;
  /** Marks some or all read; resolves to the unread count left. Unknown ids are ignored. */
  markRead(userId: string, ids: readonly string[] | 'all'): Promise<UnreadCount>;
  unread(userId: string): Promise<UnreadCount>;
}

export const INBOX = Symbol('INBOX');
