import { Manager, type ManagerOptions, type Socket } from '/vendor/socket.io.esm.min.js';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatClientToServerEvents,
  type ChatMessage,
  type ChatServerToClientEvents,
  type UserRef,
} from '../../chat/chat.events.js';
import {
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type Notification,
  type NotificationsClientToServerEvents,
  type NotificationsServerToClientEvents,
} from '../../notifications/notifications.events.js';
import type { Ack, Ok } from '../../gateway/ws-error.js';
import type { ConnectionState } from './connection-state.js';
import { readClaims } from './token-claims.js';

type ChatSocket = Socket<ChatServerToClientEvents, ChatClientToServerEvents>;
type NotificationsSocket = Socket<
  NotificationsServerToClientEvents,
  NotificationsClientToServerEvents
>;

/** A failed request as the page shows it: a server error ack, a timeout, or "not connected". */
export interface Problem {
  readonly action: string;
  readonly code: string;
  readonly message: string;
}

/** What the page hears from a connection; the connection itself never touches the DOM. */
export interface ConnectionListener {
  onState(state: ConnectionState): void;
  onRooms(rooms: readonly string[]): void;
  onMessage(message: ChatMessage, own: boolean): void;
  onPresence(room: string, users: readonly UserRef[]): void;
  onNotification(notification: Notification): void;
  onNotificationsLive(live: boolean): void;
  onDraining(reconnectInMs: number): void;
  onProblem(problem: Problem): void;
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
  /** Rooms to join as soon as the socket connects. */
  readonly rooms?: readonly string[];
  /** A short reconnect backoff, for a development server that restarts often. */
  readonly fastReconnect?: boolean;
  /**
   * Called instead of reporting `unauthorized` when the token is turned down, so the page can
   * get a new one. Neither socket retries by itself after that.
   */
  readonly onTokenRefused?: (refusal: TokenRefusal) => void;
}

const ACK_TIMEOUT_MS = 5000;
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
 * One connection of the page: `/chat` and `/notifications` multiplexed on one Manager.
 * It remembers the joined rooms and joins them again after every reconnection that did not
 * recover the session.
 */
export class ChatConnection {
  private readonly manager: Manager;
  private readonly chat: ChatSocket;
  private readonly notifications: NotificationsSocket;
  private readonly rooms: Set<string>;
  private readonly presence = new Map<string, Map<string, UserRef>>();
  private sentToken = '';
  private acceptedToken: string | undefined;
  private attempt = 0;
  private closed = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly listener: ConnectionListener,
  ) {
    this.rooms = new Set(options.rooms);
    this.manager = new Manager(
      window.location.origin,
      managerOptions(options.fastReconnect ?? false),
    );
    const auth = (send: (data: object) => void): void => {
      this.sentToken = options.token();
      send({ token: this.sentToken });
    };
    // `ackTimeout` rather than `socket.timeout()`: the latter loses the ack types.
    this.chat = this.manager.socket(CHAT_NAMESPACE, { auth, ackTimeout: ACK_TIMEOUT_MS });
    this.notifications = this.manager.socket(NOTIFICATIONS_NAMESPACE, { auth });
    this.listenToManager();
    this.listenToChat();
    this.listenToNotifications();
  }

  open(): void {
    this.listener.onState({ kind: 'connecting' });
    this.chat.connect();
    this.notifications.connect();
  }

  close(): void {
    this.closed = true;
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

  async join(room: string): Promise<boolean> {
    const joined = await this.enter(room);
    if (joined) this.listener.onRooms(this.joinedRooms());
    return joined;
  }

  async leave(room: string): Promise<boolean> {
    const ack = await this.request(ChatEvent.RoomLeave, () =>
      this.chat.emitWithAck(ChatEvent.RoomLeave, { room }),
    );
    if (!ack) return false;
    this.rooms.delete(room);
    this.presence.delete(room);
    this.listener.onRooms(this.joinedRooms());
    return true;
  }

  async send(room: string, text: string): Promise<boolean> {
    const ack = await this.request(ChatEvent.MessageSend, () =>
      this.chat.emitWithAck(ChatEvent.MessageSend, { room, text }),
    );
    if (!ack) return false;
    this.listener.onMessage({ id: ack.id, ts: ack.ts, room, text, from: this.options.self }, true);
    return true;
  }

  private joinedRooms(): string[] {
    return [...this.rooms];
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
    const { notifications, listener } = this;
    notifications.on('connect', () => listener.onNotificationsLive(true));
    notifications.on('disconnect', () => listener.onNotificationsLive(false));
    notifications.on(NotificationEvent.Notification, (notification) =>
      listener.onNotification(notification),
    );
  }

  private listenToChat(): void {
    const { chat, listener } = this;
    chat.on('connect', () => {
      this.acceptedToken = this.sentToken;
      listener.onState({ kind: 'connected', transport: this.manager.engine.transport.name });
      if (chat.recovered) this.confirmPresence();
      else void this.rejoin();
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
    chat.on(ChatEvent.MessageNew, (message) => listener.onMessage(message, false));
    chat.on(ChatEvent.PresenceJoined, ({ room, user }) =>
      this.updatePresence(room, (users) => users.set(user.id, user)),
    );
    chat.on(ChatEvent.PresenceLeft, ({ room, user }) =>
      this.updatePresence(room, (users) => users.delete(user.id)),
    );
    chat.on(ChatEvent.ServerDraining, ({ reconnectInMs }) => listener.onDraining(reconnectInMs));
    chat.on(ChatEvent.Exception, ({ error }) =>
      listener.onProblem({ action: 'an event', ...error }),
    );
  }

  private tokenRefused(reason: string): void {
    if (this.closed) return;
    const token = this.sentToken;
    if (this.options.onTokenRefused === undefined)
      return this.listener.onState({ kind: 'unauthorized', reason });
    this.options.onTokenRefused({ reason, token, accepted: token === this.acceptedToken });
  }

  /** A recovered session missed nothing: the presence it holds is current again. */
  private confirmPresence(): void {
    for (const room of this.rooms)
      this.listener.onPresence(room, [...(this.presence.get(room)?.values() ?? [])]);
  }

  private async rejoin(): Promise<void> {
    const lost: string[] = [];
    for (const room of this.rooms) if (!(await this.enter(room))) lost.push(room);
    for (const room of lost) this.rooms.delete(room);
    this.listener.onRooms(this.joinedRooms());
  }

  private async enter(room: string): Promise<boolean> {
    const ack = await this.request(ChatEvent.RoomJoin, () =>
      this.chat.emitWithAck(ChatEvent.RoomJoin, { room }),
    );
    if (!ack) return false;
    this.rooms.add(room);
    const list = await this.request(ChatEvent.PresenceList, () =>
      this.chat.emitWithAck(ChatEvent.PresenceList, { room }),
    );
    if (list)
      this.updatePresence(
        room,
        (users) => list.users.forEach((user) => users.set(user.id, user)),
        true,
      );
    return true;
  }

  private updatePresence(
    room: string,
    change: (users: Map<string, UserRef>) => void,
    reset = false,
  ): void {
    if (!this.rooms.has(room)) return;
    const users = reset
      ? new Map<string, UserRef>()
      : (this.presence.get(room) ?? new Map<string, UserRef>());
    change(users);
    this.presence.set(room, users);
    this.listener.onPresence(room, [...users.values()]);
  }

  /** Sends one request; a failure of any kind is reported to the page and yields `undefined`. */
  private async request<T extends object>(
    action: string,
    send: () => Promise<Ack<T>>,
  ): Promise<Ok<T> | undefined> {
    if (!this.chat.connected) {
      this.listener.onProblem({ action, code: 'NOT_CONNECTED', message: 'connect first' });
      return undefined;
    }
    try {
      const ack = await send();
      if (ack.ok) return ack;
      this.listener.onProblem({ action, ...ack.error });
    } catch (error) {
      this.listener.onProblem({
        action,
        code: 'TIMEOUT',
        message: error instanceof Error ? error.message : String(error),
      });
    }
    return undefined;
  }
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
