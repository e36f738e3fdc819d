import type { ChatMessage, UserRef } from '../../chat/chat.events.js';
import type { Notification } from '../../notifications/notifications.events.js';
import type { ConnectionListener, Problem } from './chat-connection.js';
import { type ConnectionState, describeState } from './connection-state.js';
import { appendBounded, create, element, formatTime } from './dom.js';

const MAX_MESSAGES = 200;
const MAX_NOTIFICATIONS = 50;

/** Renders what a connection reports. Every piece of user text goes in through `textContent`. */
export class ChatView implements ConnectionListener {
  private readonly status = element('status', HTMLElement);
  private readonly draining = element('draining', HTMLElement);
  private readonly feedback = element('feedback', HTMLElement);
  private readonly roomList = element('rooms', HTMLUListElement);
  private readonly presenceList = element('presence', HTMLUListElement);
  private readonly presenceRoom = element('presence-room', HTMLElement);
  private readonly presenceState = element('presence-state', HTMLElement);
  private readonly sendRoom = element('send-room', HTMLElement);
  private readonly messages = element('messages', HTMLOListElement);
  private readonly notifications = element('notifications', HTMLOListElement);
  private readonly notificationsState = element('notifications-state', HTMLElement);
  private readonly whenConnected =
    document.querySelectorAll<HTMLButtonElement>('[data-needs-connection]');
  private readonly whenNotificationsLive = document.querySelectorAll<HTMLButtonElement>(
    '[data-needs-notifications]',
  );

  private rooms: readonly string[] = [];
  private selected: string | undefined;
  private readonly presence = new Map<string, readonly UserRef[]>();
  private connected = false;
  /** Rooms joined and listed again since the last connect: their presence is current. */
  private readonly confirmed = new Set<string>();

  constructor(private readonly onLeave: (room: string) => void) {
    this.onState({ kind: 'idle' });
    this.onNotificationsLive(false);
  }

  get joinedRooms(): readonly string[] {
    return this.rooms;
  }

  get activeRoom(): string | undefined {
    return this.selected;
  }

  selectRoom(room: string): void {
    this.selected = room;
    this.renderRooms();
  }

  info(text: string): void {
    this.feedback.dataset['kind'] = 'info';
    this.feedback.textContent = text;
  }

  error(text: string): void {
    this.feedback.dataset['kind'] = 'error';
    this.feedback.textContent = text;
  }

  onState(state: ConnectionState): void {
    this.status.dataset['state'] = state.kind;
    this.status.textContent = describeState(state);
    // The drain notice is about the connection it came on: it stays while the client is
    // getting that connection back, and goes once a new one is up or an attempt failed.
    const waitingForReconnect =
      state.kind === 'reconnecting' || (state.kind === 'disconnected' && state.willRetry);
    if (!waitingForReconnect) this.draining.hidden = true;
    this.connected = state.kind === 'connected';
    this.confirmed.clear();
    for (const button of this.whenConnected) button.disabled = !this.connected;
    this.renderRooms();
  }

  onRooms(rooms: readonly string[]): void {
    this.rooms = rooms;
    if (this.selected === undefined || !rooms.includes(this.selected)) this.selected = rooms.at(-1);
    for (const room of this.presence.keys()) if (!rooms.includes(room)) this.presence.delete(room);
    this.renderRooms();
  }

  onMessage(message: ChatMessage, own: boolean): void {
    const item = create(
      'li',
      { testId: 'message', className: own ? 'message own' : 'message' },
      create('time', { text: formatTime(message.ts), className: 'muted' }),
      create('span', { text: `#${message.room}`, className: 'tag' }),
      create('strong', { text: message.from.name, title: message.from.id }),
      create('span', { text: message.text, className: 'text', testId: 'message-text' }),
    );
    item.dataset['room'] = message.room;
    item.dataset['from'] = message.from.id;
    appendBounded(this.messages, item, MAX_MESSAGES);
  }

  onPresence(room: string, users: readonly UserRef[]): void {
    this.presence.set(
      room,
      [...users].sort((a, b) => a.name.localeCompare(b.name)),
    );
    if (this.connected && !this.confirmed.has(room)) {
      this.confirmed.add(room);
      this.renderRooms();
    } else if (room === this.selected) this.renderPresence();
  }

  onNotification(notification: Notification): void {
    const item = create(
      'li',
      { testId: 'notification' },
      create('time', { text: formatTime(notification.ts), className: 'muted' }),
      create('strong', { text: notification.type }),
      create('code', { text: JSON.stringify(notification.data) ?? '' }),
    );
    appendBounded(this.notifications, item, MAX_NOTIFICATIONS);
  }

  onNotificationsLive(live: boolean): void {
    this.notificationsState.dataset['state'] = live ? 'live' : 'offline';
    this.notificationsState.textContent = live ? 'live' : 'offline';
    for (const button of this.whenNotificationsLive) button.disabled = !live;
  }

  onDraining(): void {
    // The page cannot know whether another instance will take it: say only what is sure.
    this.draining.textContent = 'This server is restarting or shutting down; reconnecting…';
    this.draining.hidden = false;
  }

  onProblem({ action, code, message }: Problem): void {
    this.feedback.dataset['kind'] = 'error';
    this.feedback.textContent = `${action} failed: ${code}: ${message}`;
  }

  private renderRooms(): void {
    this.roomList.replaceChildren(...this.rooms.map((room) => this.roomItem(room)));
    const label = this.selected === undefined ? 'no room' : `#${this.selected}`;
    this.presenceRoom.textContent = label;
    this.sendRoom.textContent = label;
    this.renderPresence();
  }

  private roomItem(room: string): HTMLLIElement {
    const select = create('button', { text: `#${room}`, className: 'link', testId: 'select-room' });
    select.type = 'button';
    select.addEventListener('click', () => this.selectRoom(room));
    const leave = create('button', {
      text: '×',
      className: 'icon',
      testId: 'leave-room',
      title: `Leave #${room}`,
    });
    leave.type = 'button';
    leave.setAttribute('aria-label', `Leave #${room}`);
    leave.addEventListener('click', () => this.onLeave(room));
    const joined = this.confirmed.has(room);
    const state = create('span', {
      text: joined ? '' : this.connected ? 'rejoining…' : 'rejoins when connected',
      className: 'tag',
      testId: 'room-state',
    });
    const item = create('li', { testId: 'room' }, select, state, leave);
    item.dataset['room'] = room;
    item.dataset['joined'] = joined ? 'true' : 'unknown';
    if (room === this.selected) item.setAttribute('aria-current', 'true');
    return item;
  }

  private renderPresence(): void {
    const users = this.selected === undefined ? [] : (this.presence.get(this.selected) ?? []);
    // Who is online is known only while connected and listed again since: otherwise the
    // last list stays on screen, greyed, and says so.
    const known = this.selected === undefined || this.confirmed.has(this.selected);
    this.presenceList.dataset['known'] = String(known);
    this.presenceState.hidden = known;
    this.presenceState.textContent = known ? '' : this.connected ? 'updating…' : 'last known';
    this.presenceList.replaceChildren(
      ...users.map((user) => {
        const item = create('li', { text: user.name, title: user.id, testId: 'presence-user' });
        item.dataset['userId'] = user.id;
        return item;
      }),
    );
  }
}
