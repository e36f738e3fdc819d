import { Manager, type ManagerOptions, type Socket } from '/vendor/socket.io.esm.min.js';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatClientToServerEvents,
  type ChatMessage,
  type ChatServerToClientEvents,
  type PresenceChange,
  type PresenceState,
  type PresentUser,
  type SendResult,
  type TypingChange,
  type UserRef,
} from '../../chat/chat.events.js';
import {
  type InboxItem,
  type InboxListPayload,
  type InboxReadPayload,
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type NotificationsClientToServerEvents,
  type NotificationsServerToClientEvents,
  type UnreadCount,
} from '../../notifications/notifications.events.js';
import type { Ack, Ok } from '../../gateway/ws-error.js';
import type { ConnectionState } from './connection-state.js';
import type { RoomResume } from './room-resume.js';
import { readClaims } from './token-claims.js';

type ChatSocket = Socket<ChatServerToClientEvents, ChatClientToServerEvents>;
type NotificationsSocket = Socket<
  NotificationsServerToClientEvents,
  NotificationsClientToServerEvents
>;

/** A failed request as the page shows it: a server error ack, a timeout, or "not connected". */
export interface Problem {
  readonly ok: false;
  readonly action: string;
  readonly code: string;
  readonly message: string;
}

/** What the page hears from a connection; the connection itself never touches the DOM. */
export interface ConnectionListener {
  onState(state: ConnectionState): void;
  /** The rooms this connection keeps joined, in the order they were opened. */
  onRooms(rooms: readonly string[]): void;
  /**
   * A room was (re)joined: the messages not shown yet, oldest first. `gap`: the server could
   * not give everything since the last one shown (too many, or its history was lost).
   */
  onJoined(room: string, messages: readonly ChatMessage[], gap: boolean): void;
  onMessage(message: ChatMessage): void;
  onPresence(room: string, users: readonly PresentUser[]): void;
  /** Someone else came into the room or left it. */
  onArrival(change: PresenceChange, arrived: boolean): void;
  onTyping(change: TypingChange): void;
  onDraining(reconnectInMs: number): void;
  onProblem(problem: Problem): void;
}

/** What the page hears from `/notifications`. */
export interface InboxListener {
  /** The user's unread count: on connect, and after every change made from any of its tabs. */
  onUnread(unread: UnreadCount): void;
  onNotificationsLive(live: boolean): void;
}

/** The inbox as a connection serves it; a failure of any kind comes back as a `Problem`. */
export interface InboxRequests {
  inboxList(payload: InboxListPayload): Promise<Ok<{ notifications: InboxItem[] }> | Problem>;
  inboxRead(payload: InboxReadPayload): Promise<Ok<{ unread: number }> | Problem>;
}

/** The server turned the token down: refused on a (re)connection, or expired while connected. */
export interface TokenRefusal {
  readonly reason: string;
  /** The token that was turned down. */
  readonly token: string;
  /** Whether this connection had been accepted with that very token before. */
  readonly accepted: boolean;
}

export interface ConnectionOptions {
  /** Read on every (re)connection, so a reconnect after expiry picks up a fresh token. */
  readonly token: () => string;
  readonly self: UserRef;
  /** The page's open rooms and where each was left: joined again, with `since`, on connect. */
  readonly rooms: RoomResume;
  /** This user's presence state, sent again to every room it joins. */
  readonly state: () => PresenceState | undefined;
  /** A short reconnect backoff, for a development server that restarts often. */
  readonly fastReconnect?: boolean;
  /**
   * Called instead of reporting `unauthorized` when the token is turned down, so the page can
   * get a new one. Neither socket retries by itself after that.
   */
  readonly onTokenRefused?: (refusal: TokenRefusal) => void;
}

const ACK_TIMEOUT_MS = 5000;
/**
 * With `retries`, Socket.IO sends the socket's requests one at a time, each again when its ack
 * does not come within `ACK_TIMEOUT_MS` (this many times) and after a reconnection. A message
 * carries a `clientMsgId`, so a repeat the server already took gets the first ack back and is
 * neither stored nor shown twice.
 */
const RETRIES = 3;
const EXPIRY_SLACK_MS = 10_000;

function managerOptions(fastReconnect: boolean): Partial<ManagerOptions> {
  return {
    autoConnect: false,
    // Exponential backoff, each delay jittered by ±50 %, so the clients of an instance that
    // went away come back spread out. The client's defaults (1 s doubling up to 5 s) unless
    // it is a development server, which the developer restarts and wants back at once.
    reconnection: true,
    randomizationFactor: 0.5,
    ...(fastReconnect ? { reconnectionDelay: 500, reconnectionDelayMax: 2000 } : {}),
    // WebSocket first needs no sticky session and works when the server allows WebSocket
    // only; polling stays as the fallback for networks that block WebSocket.
    transports: ['websocket', 'polling'],
    tryAllTransports: true,
  };
}

/**
 * One connection of the page: `/chat` and `/notifications` multiplexed on one Manager. On
 * every connection that Socket.IO did not recover it joins the page's rooms again, each with
 * `since` its last message, and hands on each message once, in order.
 */
export class ChatConnection implements InboxRequests {
  private readonly manager: Manager;
  private readonly chat: ChatSocket;
  private readonly notifications: NotificationsSocket;
  private readonly rooms: RoomResume;
  private readonly presence = new Map<string, Map<string, PresentUser>>();
  /** Per room, the join this connection made last: a send refused meanwhile waits for it. */
  private readonly joins = new Map<string, Promise<Problem | undefined>>();
  private readonly closed: Promise<Problem>;
  private markClosed: () => void = () => undefined;
  private sentToken = '';
  private acceptedToken: string | undefined;
  private attempt = 0;
  private isClosed = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly listener: ConnectionListener,
    private readonly inbox: InboxListener,
  ) {
    this.rooms = options.rooms;
    this.closed = new Promise((resolve) => {
      this.markClosed = () =>
        resolve(problem('request', 'CLOSED', 'the connection was closed before an answer'));
    });
    this.manager = new Manager(
      window.location.origin,
      managerOptions(options.fastReconnect ?? false),
    );
    const auth = (send: (data: object) => void): void => {
      this.sentToken = options.token();
      send({ token: this.sentToken });
    };
    // `ackTimeout` rather than `socket.timeout()`: the latter loses the ack types.
    this.chat = this.manager.socket(CHAT_NAMESPACE, {
      auth,
      ackTimeout: ACK_TIMEOUT_MS,
      retries: RETRIES,
    });
    // No retries: a list or a read that timed out is asked for again by the user's next click.
    this.notifications = this.manager.socket(NOTIFICATIONS_NAMESPACE, {
      auth,
      ackTimeout: ACK_TIMEOUT_MS,
    });
    this.listenToManager();
    this.listenToChat();
    this.listenToNotifications();
  }

  open(): void {
    this.listener.onState({ kind: 'connecting' });
    this.listener.onRooms(this.rooms.rooms());
    this.chat.connect();
    this.notifications.connect();
  }

  close(): void {
    this.isClosed = true;
    this.markClosed();
    // A socket that is not connected (retrying, or refused) says nothing when it stops.
    const silent = !this.chat.connected;
    this.chat.disconnect();
    this.notifications.disconnect();
    if (silent)
      this.listener.onState({
        kind: 'disconnected',
        reason: 'io client disconnect',
        willRetry: false,
      });
  }

  /** Opens a room: its last messages come with `onJoined`. A refusal is returned, not reported. */
  async join(room: string): Promise<Problem | undefined> {
    const opened = this.rooms.rooms().includes(room);
    const refused = await this.enter(room);
    if (refused && !opened) this.rooms.forget(room);
    this.listener.onRooms(this.rooms.rooms());
    return refused;
  }

  async leave(room: string): Promise<boolean> {
    const ack = await this.request(ChatEvent.RoomLeave, () =>
      this.chat.emitWithAck(ChatEvent.RoomLeave, { room }),
    );
    if (!ack.ok) return this.report(ack);
    this.rooms.forget(room);
    this.presence.delete(room);
    this.listener.onRooms(this.rooms.rooms());
    return true;
  }

  /**
   * Sends a message; the caller shows it and then its outcome. The same `clientMsgId` on every
   * attempt, here and by Socket.IO's retries, keeps it one message.
   */
  async send(room: string, text: string, clientMsgId: string): Promise<Ok<SendResult> | Problem> {
    const attempt = (): Promise<Ok<SendResult> | Problem> =>
      this.request(ChatEvent.MessageSend, () =>
        this.chat.emitWithAck(ChatEvent.MessageSend, { room, text, clientMsgId }),
      );
    let answer = await attempt();
    if (!answer.ok && answer.code === 'NOT_IN_ROOM') {
      // Sent again right after a reconnection, before the room was joined again: once it is.
      const rejoin = this.joins.get(room);
      if (rejoin !== undefined && (await rejoin) === undefined) answer = await attempt();
    }
    // Not for a room closed meanwhile: recording it would open it again.
    if (answer.ok && this.rooms.rooms().includes(room)) this.rooms.sent(room, answer.id);
    return answer;
  }

  /** Volatile: a typing signal that cannot go now is worth nothing later. */
  typing(room: string, typing: boolean): void {
    if (!this.chat.connected || !this.rooms.rooms().includes(room)) return;
    this.chat.volatile.emit(typing ? ChatEvent.TypingStart : ChatEvent.TypingStop, { room });
  }

  /** Sets this user's state in every open room (the server keeps it per room). */
  async setState(state: PresenceState): Promise<void> {
    await Promise.all(this.rooms.rooms().map((room) => this.sendState(room, state)));
  }

  inboxList(payload: InboxListPayload): Promise<Ok<{ notifications: InboxItem[] }> | Problem> {
    return this.request(
      NotificationEvent.InboxList,
      () => this.notifications.emitWithAck(NotificationEvent.InboxList, payload),
      this.notifications,
    );
  }

  inboxRead(payload: InboxReadPayload): Promise<Ok<{ unread: number }> | Problem> {
    return this.request(
      NotificationEvent.InboxRead,
      () => this.notifications.emitWithAck(NotificationEvent.InboxRead, payload),
      this.notifications,
    );
  }

  private listenToManager(): void {
    this.manager.on('reconnect_attempt', (attempt) => {
      this.attempt = attempt;
      this.listener.onState({ kind: 'reconnecting', attempt });
    });
    this.manager.on('reconnect_error', () =>
      this.listener.onState({ kind: 'unreachable', attempt: this.attempt }),
    );
    this.manager.on('reconnect_failed', () =>
      this.listener.onState({
        kind: 'disconnected',
        reason: 'gave up reconnecting',
        willRetry: false,
      }),
    );
  }

  private listenToNotifications(): void {
    const { notifications, inbox } = this;
    notifications.on('connect', () => inbox.onNotificationsLive(true));
    notifications.on('disconnect', () => inbox.onNotificationsLive(false));
    notifications.on(NotificationEvent.InboxUnread, (unread) => inbox.onUnread(unread));
  }

  private listenToChat(): void {
    const { chat, listener } = this;
    chat.on('connect', () => {
      this.acceptedToken = this.sentToken;
      listener.onState({ kind: 'connected', transport: this.manager.engine.transport.name });
      if (chat.recovered) this.confirmPresence();
      else this.rejoin();
    });
    chat.on('disconnect', (reason) => {
      listener.onState({ kind: 'disconnected', reason, willRetry: chat.active });
      // The server lets a socket go this way when its token expires; the client does not retry.
      if (reason === 'io server disconnect' && isExpired(this.sentToken))
        this.tokenRefused('token_expired');
    });
    chat.on('connect_error', (error) => {
      // An active socket is retrying a transport failure (the Manager reports the attempts);
      // an inactive one was refused by the server's middleware and will not retry.
      if (chat.active) return;
      const { code, reason } = refusalOf(error);
      if (code === 'UNAUTHORIZED') this.tokenRefused(reason);
      else listener.onState({ kind: 'refused', code, reason });
    });
    chat.on(ChatEvent.MessageNew, (message) => {
      for (const fresh of this.rooms.accept(message)) listener.onMessage(fresh);
    });
    chat.on(ChatEvent.PresenceJoined, (change) => {
      if (this.updatePresence(change.room, (users) => users.set(change.user.id, change.user)))
        listener.onArrival(change, true);
    });
    chat.on(ChatEvent.PresenceLeft, (change) => {
      if (this.updatePresence(change.room, (users) => users.delete(change.user.id)))
        listener.onArrival(change, false);
    });
    chat.on(ChatEvent.PresenceUpdated, ({ room, user, state }) =>
      this.updatePresence(room, (users) => users.set(user.id, { ...user, state })),
    );
    chat.on(ChatEvent.Typing, (change) => listener.onTyping(change));
    chat.on(ChatEvent.RoomRemoved, ({ room, reason }) => {
      this.rooms.forget(room);
      this.presence.delete(room);
      listener.onRooms(this.rooms.rooms());
      listener.onProblem(problem(ChatEvent.RoomRemoved, 'REMOVED', `#${room}: ${reason}`));
    });
    chat.on(ChatEvent.ServerDraining, ({ reconnectInMs }) => listener.onDraining(reconnectInMs));
    chat.on(ChatEvent.Exception, ({ error }) =>
      listener.onProblem(problem('an event', error.code, error.message)),
    );
  }

  private tokenRefused(reason: string): void {
    if (this.isClosed) return;
    const token = this.sentToken;
    if (this.options.onTokenRefused === undefined)
      return this.listener.onState({ kind: 'unauthorized', reason });
    this.options.onTokenRefused({ reason, token, accepted: token === this.acceptedToken });
  }

  /** A recovered session missed nothing: the presence it holds is current again. */
  private confirmPresence(): void {
    for (const room of this.rooms.rooms())
      this.listener.onPresence(room, [...(this.presence.get(room)?.values() ?? [])]);
  }

  /** Joins every open room again; one the server no longer lets in is closed. */
  private rejoin(): void {
    const rooms = this.rooms.rooms();
    this.listener.onRooms(rooms);
    for (const room of rooms)
      void this.enter(room).then((refused) => {
        if (refused === undefined) return;
        this.rooms.forget(room);
        this.presence.delete(room);
        this.report(refused);
        this.listener.onRooms(this.rooms.rooms());
      });
  }

  private enter(room: string): Promise<Problem | undefined> {
    const entering = this.enterNow(room);
    this.joins.set(room, entering);
    return entering;
  }

  private async enterNow(room: string): Promise<Problem | undefined> {
    const ack = await this.request(ChatEvent.RoomJoin, () =>
      this.chat.emitWithAck(ChatEvent.RoomJoin, this.rooms.joinPayload(room)),
    );
    if (!ack.ok) {
      // Only a payload that was sent holds live messages back.
      if (ack.code !== 'NOT_CONNECTED')
        for (const held of this.rooms.joinFailed(room)) this.listener.onMessage(held);
      return ack;
    }
    this.listener.onJoined(room, this.rooms.joined(room, ack), ack.recovered === false);
    const state = this.options.state();
    if (state !== undefined) await this.sendState(room, state);
    const list = await this.request(ChatEvent.PresenceList, () =>
      this.chat.emitWithAck(ChatEvent.PresenceList, { room }),
    );
    if (!list.ok) this.report(list);
    else
      this.updatePresence(
        room,
        (users) => list.users.forEach((user) => users.set(user.id, user)),
        true,
      );
    return undefined;
  }

  private async sendState(room: string, state: PresenceState): Promise<void> {
    const ack = await this.request(ChatEvent.PresenceUpdate, () =>
      this.chat.emitWithAck(ChatEvent.PresenceUpdate, { room, state }),
    );
    if (!ack.ok) return void this.report(ack);
    // The others hear `presence:updated`; this socket is not told of its own change.
    const { id, name } = this.options.self;
    this.updatePresence(room, (users) => {
      if (users.has(id)) users.set(id, { id, name, state });
    });
  }

  private updatePresence(
    room: string,
    change: (users: Map<string, PresentUser>) => void,
    reset = false,
  ): boolean {
    if (!this.rooms.rooms().includes(room)) return false;
    const users = reset
      ? new Map<string, PresentUser>()
      : (this.presence.get(room) ?? new Map<string, PresentUser>());
    change(users);
    this.presence.set(room, users);
    this.listener.onPresence(room, [...users.values()]);
    return true;
  }

  private report(failure: Problem): false {
    this.listener.onProblem(failure);
    return false;
  }

  /** Sends one request on `socket`; a failure of any kind comes back as a `Problem`. */
  private async request<T extends object>(
    action: string,
    send: () => Promise<Ack<T>>,
    socket: { readonly connected: boolean } = this.chat,
  ): Promise<Ok<T> | Problem> {
    if (!socket.connected) return problem(action, 'NOT_CONNECTED', 'connect first');
    try {
      // Retried requests wait through a reconnection: a closed connection answers them all.
      const answer = await Promise.race([send(), this.closed]);
      if (answer.ok) return answer;
      return 'action' in answer ? answer : problem(action, answer.error.code, answer.error.message);
    } catch (error) {
      return problem(action, 'TIMEOUT', error instanceof Error ? error.message : String(error));
    }
  }
}

function problem(action: string, code: string, message: string): Problem {
  return { ok: false, action, code, message };
}

/** Within a few seconds of `exp`: the browser's clock may lag the server's a little. */
function isExpired(token: string): boolean {
  const expiresAt = readClaims(token)?.expiresAt;
  return expiresAt !== undefined && expiresAt <= Date.now() + EXPIRY_SLACK_MS;
}

function refusalOf(error: Error & { data?: unknown }): { code: string; reason: string } {
  const data = (typeof error.data === 'object' && error.data !== null ? error.data : {}) as {
    code?: unknown;
    reason?: unknown;
  };
  return {
    code: typeof data.code === 'string' ? data.code : 'ERROR',
    reason: typeof data.reason === 'string' ? data.reason : error.message,
  };
}
