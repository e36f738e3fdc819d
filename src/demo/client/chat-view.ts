import type {
  ChatMessage,
  PresenceChange,
  PresentUser,
  SendResult,
  TypingChange,
  UserRef,
} from '../../chat/chat.events.js';
import type { ConnectionListener, Problem } from './chat-connection.js';
import { type ConnectionState, describeState } from './connection-state.js';
import { create, element } from './dom.js';
import { MessageLog } from './message-log.js';
import { dmPeer, dmUsers } from './rooms.js';
import { describeStatus } from './status.js';
import { TypingBoard } from './typing.js';

/** An information line goes by itself after this long; an error stays until dismissed. */
const INFO_MS = 10_000;
/** How close to the bottom counts as reading the newest messages (they then stay in view). */
const FOLLOW_PX = 80;

/** What the page does when the user acts on the view. */
export interface ViewActions {
  leave(room: string): void;
  openDm(user: UserRef): void;
  retry(room: string, clientMsgId: string, text: string): void;
  /** Another room is shown (or none): the composer now writes to it. */
  selected(room: string | undefined): void;
}

/** Renders what a connection reports. Every piece of user text goes in through `textContent`. */
export class ChatView implements ConnectionListener {
  private readonly status = element('status', HTMLElement);
  private readonly draining = element('draining', HTMLElement);
  private readonly feedback = element('feedback', HTMLElement);
  private readonly meName = element('me-name', HTMLElement);
  private readonly roomList = element('rooms', HTMLUListElement);
  private readonly roomTitle = element('room-title', HTMLElement);
  private readonly roomSubtitle = element('room-subtitle', HTMLElement);
  private readonly messages = element('messages', HTMLElement);
  private readonly typingLine = element('typing', HTMLElement);
  private readonly composer = element('message-text', HTMLInputElement);
  private readonly sendButton = element('send', HTMLButtonElement);
  private readonly myDot = element('my-dot', HTMLElement);
  private readonly presenceList = element('presence', HTMLUListElement);
  private readonly presenceRoom = element('presence-room', HTMLElement);
  private readonly presenceState = element('presence-state', HTMLElement);
  private readonly whenConnected = document.querySelectorAll<HTMLButtonElement | HTMLSelectElement>(
    '[data-needs-connection]',
  );

  private self: UserRef | undefined;
  private rooms: readonly string[] = [];
  private selected: string | undefined;
  private refusal: { readonly room: string; readonly problem: Problem } | undefined;
  private readonly logs = new Map<string, MessageLog>();
  private readonly unread = new Map<string, number>();
  private readonly presence = new Map<string, readonly PresentUser[]>();
  /** Display names seen anywhere, to name the other side of a direct conversation. */
  private readonly names = new Map<string, string>();
  private readonly typing = new TypingBoard();
  private connected = false;
  private infoTimer: ReturnType<typeof setTimeout> | undefined;
  /** Rooms joined and listed again since the last connect: their presence is current. */
  private readonly confirmed = new Set<string>();

  constructor(private readonly actions: ViewActions) {
    element('dismiss-feedback', HTMLButtonElement).addEventListener('click', () => this.info(''));
    this.onState({ kind: 'idle' });
  }

  get activeRoom(): string | undefined {
    return this.refusal === undefined ? this.selected : undefined;
  }

  /** The sign-in card, or the chat for `self`. */
  showSignIn(): void {
    document.body.dataset['screen'] = 'sign-in';
  }

  showChat(self: UserRef): void {
    if (this.self?.id !== self.id) this.reset();
    this.self = self;
    this.names.set(self.id, self.name);
    this.meName.textContent = self.name;
    this.meName.title = self.id;
    document.body.dataset['screen'] = 'chat';
  }

  /** Forgets every room and message (signed out, or another user signed in). */
  reset(): void {
    this.rooms = [];
    this.selected = undefined;
    this.refusal = undefined;
    this.logs.clear();
    this.unread.clear();
    this.presence.clear();
    this.typing.clearAll();
    this.render();
  }

  selectRoom(room: string): void {
    this.refusal = undefined;
    this.selected = room;
    this.unread.delete(room);
    this.actions.selected(room);
    this.render();
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  /** The server would not let this user into `room`: said in the conversation's place. */
  showRefusal(room: string, problem: Problem): void {
    this.refusal = { room, problem };
    this.actions.selected(undefined);
    this.render();
  }

  info(text: string): void {
    this.say('info', text);
    this.infoTimer = setTimeout(() => this.say('info', ''), INFO_MS);
  }

  error(text: string): void {
    this.say('error', text);
  }

  /** The dot next to this user's own status. */
  showStatus(status: string): void {
    this.myDot.dataset['status'] = status;
  }

  /** An own message: shown at once, then confirmed or marked as not sent. */
  sending(room: string, clientMsgId: string, text: string): void {
    const log = this.log(room);
    if (log === undefined) return;
    log.sending(clientMsgId, text);
    this.messages.scrollTop = this.messages.scrollHeight;
  }

  sent(room: string, clientMsgId: string, result: SendResult): void {
    this.logs.get(room)?.sent(clientMsgId, result);
  }

  notSent(room: string, clientMsgId: string, text: string): void {
    this.logs.get(room)?.notSent(clientMsgId, text);
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
    // Typing signals stop with the connection; the others' typing is told again on rejoin.
    this.typing.clearAll();
    for (const control of this.whenConnected) control.disabled = !this.connected;
    this.render();
  }

  onRooms(rooms: readonly string[]): void {
    this.rooms = rooms;
    if (this.selected === undefined || !rooms.includes(this.selected)) {
      this.selected = rooms.at(-1);
      this.actions.selected(this.activeRoom);
    }
    for (const room of [...this.logs.keys()])
      if (!rooms.includes(room)) {
        this.logs.delete(room);
        this.presence.delete(room);
        this.unread.delete(room);
      }
    this.render();
  }

  onJoined(room: string, messages: readonly ChatMessage[], gap: boolean): void {
    const log = this.log(room);
    if (log === undefined) return;
    if (gap) log.note('Some messages from while you were away may be missing.');
    this.follow(room, () => messages.forEach((message) => this.addMessage(log, message)));
  }

  onMessage(message: ChatMessage): void {
    const log = this.log(message.room);
    if (log === undefined) return;
    this.typing.clear(message.room, message.from);
    const shown = this.follow(message.room, () => this.addMessage(log, message));
    if (shown && message.room !== this.activeRoom && message.from.id !== this.self?.id)
      this.unread.set(message.room, (this.unread.get(message.room) ?? 0) + 1);
    this.render();
  }

  onPresence(room: string, users: readonly PresentUser[]): void {
    for (const user of users) this.names.set(user.id, user.name);
    this.presence.set(
      room,
      [...users].sort((a, b) => a.name.localeCompare(b.name)),
    );
    if (this.connected) this.confirmed.add(room);
    this.render();
  }

  onArrival({ room, user }: PresenceChange, arrived: boolean): void {
    if (!arrived) this.typing.clear(room, user);
    this.follow(room, () =>
      this.logs.get(room)?.note(`${user.name} ${arrived ? 'joined' : 'left'}`),
    );
    this.renderTyping();
  }

  onTyping(change: TypingChange): void {
    this.typing.apply(change);
    this.renderTyping();
  }

  onDraining(): void {
    // The page cannot know whether another instance will take it: say only what is sure.
    this.draining.textContent = 'This server is restarting or shutting down; reconnecting…';
    this.draining.hidden = false;
  }

  onProblem({ action, code, message }: Problem): void {
    this.error(`${action} failed: ${code}: ${message}`);
  }

  private say(kind: 'info' | 'error', text: string): void {
    clearTimeout(this.infoTimer);
    this.feedback.dataset['kind'] = kind;
    this.feedback.textContent = text;
  }

  /** The room's log, made on first use; undefined while nobody is signed in. */
  private log(room: string): MessageLog | undefined {
    let log = this.logs.get(room);
    if (log === undefined && this.self !== undefined) {
      log = new MessageLog(room, this.self, (id, text) => this.actions.retry(room, id, text));
      this.logs.set(room, log);
    }
    return log;
  }

  private addMessage(log: MessageLog, message: ChatMessage): boolean {
    this.names.set(message.from.id, message.from.name);
    return log.add(message);
  }

  /** Runs `change` on a room's log, keeping the newest in view if the user was reading them. */
  private follow<T>(room: string, change: () => T): T {
    const { scrollTop, scrollHeight, clientHeight } = this.messages;
    const atBottom = scrollHeight - scrollTop - clientHeight < FOLLOW_PX;
    const result = change();
    if (room === this.activeRoom && atBottom) this.messages.scrollTop = this.messages.scrollHeight;
    return result;
  }

  private render(): void {
    this.renderRooms();
    this.renderConversation();
    this.renderPresence();
    this.renderTyping();
  }

  private label(room: string): string {
    const peer = this.self && dmPeer(room, this.self.id);
    return peer === undefined ? `#${room}` : `@${this.names.get(peer) ?? peer}`;
  }

  private renderRooms(): void {
    this.roomList.replaceChildren(...this.rooms.map((room) => this.roomItem(room)));
  }

  private roomItem(room: string): HTMLLIElement {
    const select = create('button', {
      text: this.label(room),
      className: 'link',
      testId: 'select-room',
      title: room,
    });
    select.type = 'button';
    select.addEventListener('click', () => this.selectRoom(room));
    const leave = create('button', {
      text: '×',
      className: 'icon',
      testId: 'leave-room',
      title: `Close ${this.label(room)}`,
    });
    leave.type = 'button';
    leave.setAttribute('aria-label', `Close ${this.label(room)}`);
    leave.addEventListener('click', () => this.actions.leave(room));
    const joined = this.confirmed.has(room);
    const state = create('span', {
      text: joined ? '' : this.connected ? 'rejoining…' : 'rejoins when connected',
      className: 'tag',
      testId: 'room-state',
    });
    const unread = this.unread.get(room) ?? 0;
    const badge = create('span', { text: String(unread), className: 'unread', testId: 'unread' });
    badge.hidden = unread === 0;
    const item = create('li', { testId: 'room' }, select, state, badge, leave);
    item.dataset['room'] = room;
    item.dataset['joined'] = joined ? 'true' : 'unknown';
    if (room === this.activeRoom) item.setAttribute('aria-current', 'true');
    return item;
  }

  private renderConversation(): void {
    const room = this.activeRoom;
    this.composer.disabled = room === undefined;
    this.sendButton.disabled = room === undefined || !this.connected;
    this.composer.placeholder = room === undefined ? '' : `Message ${this.label(room)}`;
    if (this.refusal !== undefined) {
      const { room, problem } = this.refusal;
      this.roomTitle.textContent = this.label(room);
      this.roomSubtitle.textContent = '';
      this.messages.replaceChildren(refusalNotice(room, problem));
      return;
    }
    const log = room === undefined ? undefined : this.log(room);
    if (room === undefined || log === undefined) {
      this.roomTitle.textContent = 'No room open';
      this.roomSubtitle.textContent = '';
      this.messages.replaceChildren(
        create('p', { text: 'Open a room on the left to start chatting.', className: 'notice' }),
      );
      return;
    }
    this.roomTitle.textContent = this.label(room);
    const peer = this.self && dmPeer(room, this.self.id);
    const here = this.presence.get(room)?.length ?? 0;
    this.roomSubtitle.textContent =
      peer !== undefined
        ? `Direct conversation: only you and ${this.names.get(peer) ?? peer} can read it`
        : `${here} ${here === 1 ? 'person' : 'people'} here`;
    if (this.messages.firstElementChild !== log.element) this.messages.replaceChildren(log.element);
  }

  private renderPresence(): void {
    const room = this.activeRoom;
    const users = room === undefined ? [] : (this.presence.get(room) ?? []);
    this.presenceRoom.textContent = room === undefined ? '' : `in ${this.label(room)}`;
    // Who is online is known only while connected and listed again since: otherwise the
    // last list stays on screen, greyed, and says so.
    const known = room === undefined || this.confirmed.has(room);
    this.presenceList.dataset['known'] = String(known);
    this.presenceState.hidden = known;
    this.presenceState.textContent = known ? '' : this.connected ? 'updating…' : 'last known';
    this.presenceList.replaceChildren(...users.map((user) => this.presenceItem(user)));
  }

  private presenceItem(user: PresentUser): HTMLLIElement {
    const status = describeStatus(user.state);
    const dot = create('span', { className: 'dot' });
    dot.dataset['status'] = status?.status ?? 'available';
    const own = user.id === this.self?.id;
    const item = create(
      'li',
      { testId: 'presence-user', title: user.id },
      dot,
      create('span', { text: user.name, testId: 'presence-name' }),
    );
    if (own) item.append(create('span', { text: '(you)', className: 'status' }));
    if (status !== undefined && status.status !== 'available')
      item.append(
        create('span', { text: status.label, className: 'status', testId: 'presence-status' }),
      );
    if (!own && this.self !== undefined && !dmUsers(this.activeRoom ?? '')) {
      const message = create('button', {
        text: 'Message',
        className: 'link',
        testId: 'open-dm',
        title: `Open a direct conversation with ${user.name}`,
      });
      message.type = 'button';
      message.disabled = !this.connected;
      message.addEventListener('click', () => this.actions.openDm(user));
      item.append(message);
    }
    item.dataset['userId'] = user.id;
    return item;
  }

  private renderTyping(): void {
    this.typingLine.textContent = this.typing.line(this.activeRoom);
  }
}

/** Why the conversation cannot be shown, with the server's own answer. */
function refusalNotice(room: string, { code, message }: Problem): HTMLElement {
  const users = dmUsers(room);
  const [title, why] =
    code !== 'FORBIDDEN'
      ? [`Could not open #${room}.`, 'The server did not let this page in.']
      : users !== undefined
        ? [
            'This conversation is private.',
            `It is the direct conversation of ${users[0]} and ${users[1]}; only they can open it.`,
          ]
        : [`You may not open #${room}.`, 'The server does not let this user in.'];
  const notice = create(
    'div',
    { className: 'refusal', testId: 'room-refused' },
    create('strong', { text: title }),
    create('p', { text: why }),
    create('p', { text: `${code}: ${message}`, className: 'muted' }),
  );
  notice.setAttribute('role', 'alert');
  return notice;
}
