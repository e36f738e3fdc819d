import type { InboxItem, UnreadCount } from '../../notifications/notifications.events.js';
import type { InboxListener, InboxRequests, Problem } from './chat-connection.js';
import { create, element } from './dom.js';
import { describeNotification, timeAgo } from './notification-text.js';

/** Notifications the inbox asks for at a time ("Show older" asks for as many again). */
const PAGE = 20;
/** The most one `inbox:list` returns (the server's MAX_INBOX_PAGE). */
const MAX_PAGE = 100;
/** How often an open inbox brings its "5 minutes ago" up to date. */
const TICK_MS = 30_000;
const BADGE_MAX = 99;
/** Between the bell and the inbox it opens. */
const GAP_PX = 6;

export interface InboxActions {
  /** The signed-in user's connection, if any. */
  connection(): InboxRequests | undefined;
  sendTest(): void;
  problem(problem: Problem): void;
}

/**
 * The bell with the unread count and the inbox it opens: newest first, unread ones marked,
 * one read when clicked. The count is always the server's `inbox:unread`, and an open inbox
 * loads again on each, so both follow what the user's other tabs do.
 */
export class InboxView implements InboxListener {
  private readonly bell = element('inbox-toggle', HTMLButtonElement);
  private readonly badge = element('unread-badge', HTMLElement);
  private readonly announcer = element('unread-status', HTMLElement);
  private readonly panel = element('inbox', HTMLElement);
  private readonly summary = element('inbox-summary', HTMLElement);
  private readonly list = element('inbox-list', HTMLOListElement);
  private readonly offline = element('inbox-offline', HTMLElement);
  private readonly markAll = element('mark-all-read', HTMLButtonElement);
  private readonly older = element('inbox-older', HTMLButtonElement);
  private readonly sendTest = element('send-test-notification', HTMLButtonElement);

  private count: number | undefined;
  private version = 0;
  private live = false;
  private items: readonly InboxItem[] = [];
  private loaded = false;
  private more = false;
  /** Bumped by every load of the newest page and by a reset: older answers are dropped. */
  private generation = 0;
  private ticker: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly actions: InboxActions) {
    this.panel.addEventListener('beforetoggle', ({ newState }) => {
      if (newState === 'open') this.place();
    });
    this.panel.addEventListener('toggle', ({ newState }) => this.toggled(newState === 'open'));
    this.markAll.addEventListener('click', () => void this.read('all'));
    this.older.addEventListener('click', () => void this.load(this.items.at(-1)?.id));
    this.sendTest.addEventListener('click', () => actions.sendTest());
    this.renderCount();
    this.renderList();
  }

  /** Counts from different instances can cross: one older than the last shown is dropped. */
  onUnread({ count, version }: UnreadCount): void {
    if (version < this.version) return;
    this.version = version;
    const changed = count !== this.count;
    this.count = count;
    this.renderCount();
    if (changed) this.announcer.textContent = unreadWords(count);
    if (this.isOpen()) void this.load();
  }

  onNotificationsLive(live: boolean): void {
    this.live = live;
    this.renderCount();
    this.renderList();
    if (live && this.isOpen()) void this.load();
  }

  /** Signed out, or another user signed in: nothing of the last user's inbox stays. */
  reset(): void {
    this.generation++;
    this.count = undefined;
    this.version = 0;
    this.items = [];
    this.loaded = false;
    this.more = false;
    this.announcer.textContent = '';
    this.panel.hidePopover();
    this.renderCount();
    this.renderList();
  }

  private isOpen(): boolean {
    return this.panel.matches(':popover-open');
  }

  /** Right under the bell, its right edge with the bell's (the CSS keeps it on screen). */
  private place(): void {
    const { bottom, right } = this.bell.getBoundingClientRect();
    this.panel.style.setProperty('--top', `${bottom + GAP_PX}px`);
    this.panel.style.setProperty('--right', `${document.documentElement.clientWidth - right}px`);
  }

  private toggled(open: boolean): void {
    clearInterval(this.ticker);
    if (!open) return;
    this.ticker = setInterval(() => this.renderList(), TICK_MS);
    void this.load();
  }

  /** The newest page again (as long as the list shown), or the page before `before`. */
  private async load(before?: string): Promise<void> {
    const requests = this.actions.connection();
    if (requests === undefined || !this.live) return;
    const generation = before === undefined ? ++this.generation : this.generation;
    const limit =
      before === undefined ? Math.min(MAX_PAGE, Math.max(PAGE, this.items.length)) : PAGE;
    const answer = await requests.inboxList({ before, limit });
    if (generation !== this.generation) return;
    if (!answer.ok) return this.actions.problem(answer);
    this.items =
      before === undefined ? answer.notifications : [...this.items, ...answer.notifications];
    this.more = answer.notifications.length === limit;
    this.loaded = true;
    this.renderList();
  }

  /** Marked here at once; the count comes, as always, with the server's `inbox:unread`. */
  private async read(which: readonly string[] | 'all'): Promise<void> {
    const requests = this.actions.connection();
    if (requests === undefined) return;
    const answer = await requests.inboxRead(which === 'all' ? { all: true } : { ids: which });
    if (!answer.ok) return this.actions.problem(answer);
    this.items = this.items.map((item) =>
      which === 'all' || which.includes(item.id) ? { ...item, read: true } : item,
    );
    this.renderList();
  }

  private renderCount(): void {
    const count = this.count ?? 0;
    this.bell.dataset['count'] = this.count === undefined ? '' : String(count);
    this.bell.setAttribute('aria-label', `Notifications, ${count} unread`);
    this.bell.title = this.count === undefined ? 'Notifications' : unreadWords(count);
    this.badge.textContent = count > BADGE_MAX ? `${BADGE_MAX}+` : String(count);
    this.badge.hidden = count === 0;
    this.summary.textContent =
      this.count === undefined ? '' : count === 0 ? 'all read' : `${count} unread`;
    this.markAll.disabled = !this.live || count === 0;
    this.sendTest.disabled = !this.live;
  }

  private renderList(): void {
    // Rows are made anew: focus goes back to the row that had it.
    const focused = this.list.contains(document.activeElement)
      ? (document.activeElement?.closest('li')?.dataset['id'] ?? undefined)
      : undefined;
    const now = Date.now();
    this.list.dataset['empty'] = this.loaded
      ? 'No notifications yet.'
      : this.live
        ? 'Loading…'
        : '';
    this.list.replaceChildren(...this.items.map((item) => this.row(item, now)));
    this.older.hidden = !this.more;
    this.offline.hidden = this.live;
    if (focused !== undefined)
      this.list.querySelector<HTMLElement>(`li[data-id="${CSS.escape(focused)}"] .entry`)?.focus();
  }

  private row(item: InboxItem, now: number): HTMLLIElement {
    const when = new Date(item.ts);
    const time = create('time', { text: timeAgo(item.ts, now), title: when.toLocaleString() });
    time.dateTime = when.toISOString();
    const said = [
      create('span', { text: describeNotification(item), testId: 'inbox-text' }),
      create('span', { text: ', ', className: 'visually-hidden' }),
      time,
    ];
    let entry: HTMLElement;
    if (item.read) {
      // Focusable from script only: where focus lands when this row was just read.
      entry = create('div', { className: 'entry' }, ...said);
      entry.tabIndex = -1;
    } else {
      const button = create(
        'button',
        { className: 'entry', title: 'Mark as read' },
        create('span', { text: 'Unread: ', className: 'visually-hidden' }),
        ...said,
      );
      button.type = 'button';
      button.addEventListener('click', () => void this.read([item.id]));
      entry = button;
    }
    const row = create('li', { testId: 'inbox-item' }, entry);
    row.dataset['id'] = item.id;
    row.dataset['read'] = String(item.read);
    return row;
  }
}

function unreadWords(count: number): string {
  if (count === 0) return 'No unread notifications';
  return `${count} unread notification${count === 1 ? '' : 's'}`;
}
