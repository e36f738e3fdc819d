import type { Notification, UnreadCount } from '../notifications.events.js';
import type { Inbox, InboxItem } from './inbox.js';

interface UserInbox {
  /** Oldest first. */
  readonly items: Notification[];
  readonly unread: Set<string>;
  touchedAt: number;
  version: number;
}

/** How often expired inboxes are swept. */
const SWEEP_MS = 60_000;

/** One instance's inboxes, in memory. */
export class InMemoryInbox implements Inbox {
  private readonly users = new Map<string, UserInbox>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly size: number,
    private readonly ttlS: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref();
  }

  add(userId: string, notification: Notification): Promise<UnreadCount> {
    let inbox = this.live(userId);
    if (!inbox) {
      inbox = { items: [], unread: new Set(), touchedAt: 0, version: 0 };
      this.users.set(userId, inbox);
    }
    inbox.touchedAt = this.now();
    inbox.items.push(notification);
    inbox.unread.add(notification.id);
    for (const dropped of inbox.items.splice(0, Math.max(0, inbox.items.length - this.size)))
      inbox.unread.delete(dropped.id);
    return Promise.resolve(countOf(inbox, true));
  }

  list(userId: string, before: string | undefined, limit: number): Promise<InboxItem[]> {
    const inbox = this.live(userId);
    if (!inbox) return Promise.resolve([]);
    const page: InboxItem[] = [];
    for (let i = inbox.items.length - 1; i >= 0 && page.length < limit; i--) {
      const item = inbox.items[i];
      if (before === undefined || item.id < before)
        page.push({ ...item, read: !inbox.unread.has(item.id) });
    }
    return Promise.resolve(page);
  }

  markRead(userId: string, ids: readonly string[] | 'all'): Promise<UnreadCount> {
    const inbox = this.live(userId);
    if (!inbox) return Promise.resolve({ count: 0, version: 0 });
    if (ids === 'all') inbox.unread.clear();
    else for (const id of ids) inbox.unread.delete(id);
    return Promise.resolve(countOf(inbox, true));
  }

  unread(userId: string): Promise<UnreadCount> {
    const inbox = this.live(userId);
    return Promise.resolve(inbox ? countOf(inbox, false) : { count: 0, version: 0 });
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  /** The user's inbox unless it expired (as the Redis keys would). */
  private live(userId: string): UserInbox | undefined {
    const inbox = this.users.get(userId);
    if (inbox && this.now() - inbox.touchedAt > this.ttlS * 1000) {
      this.users.delete(userId);
      return undefined;
    }
    return inbox;
  }

  private sweep(): void {
    for (const userId of [...this.users.keys()]) this.live(userId);
  }
}

function countOf(inbox: UserInbox, changed: boolean): UnreadCount {
  if (changed) inbox.version++;
  return { count: inbox.unread.size, version: inbox.version };
}
