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
import type { Ack, Ok } from '../../realtime/ws-error.js';
import type { ConnectionState } from './connection-state.js';

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

export interface ConnectionOptions {
  /** Read on every (re)connection, so a reconnect after expiry picks up a fresh token. */
  readonly token: () => string;
  readonly self: UserRef;
  /** Rooms to join as soon as the socket connects. */
  readonly rooms?: readonly string[];
}

const ACK_TIMEOUT_MS = 5000;

const MANAGER_OPTIONS: Partial<ManagerOptions> = {
  autoConnect: false,
  // Exponential backoff from 1 s, capped at 30 s, each delay jittered by ±50 %: when an
  // instance goes away, its clients come back spread out instead of all at once.
  reconnection: true,
  reconnectionDelay: 1000,
  reconnectionDelayMax: 30_000,
  randomizationFactor: 0.5,
  // WebSocket first needs no sticky session and works when the server allows WebSocket
  // only; polling stays as the fallback for networks that block WebSocket.
  transports: ['websocket', 'polling'],
  tryAllTransports: true,
};

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

  constructor(
    private readonly options: ConnectionOptions,
    private readonly listener: ConnectionListener,
  ) {
    this.rooms = new Set(options.rooms);
    this.manager = new Manager(window.location.origin, MANAGER_OPTIONS);
    const auth = (send: (data: object) => void): void => send({ token: options.token() });
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
    this.chat.disconnect();
    this.notifications.disconnect();
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
    this.manager.on('reconnect_attempt', (attempt) =>
      this.listener.onState({ kind: 'reconnecting', attempt }),
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
      listener.onState({ kind: 'connected', transport: this.manager.engine.transport.name });
      if (!chat.recovered) void this.rejoin();
    });
    chat.on('disconnect', (reason) => listener.onState({ kind: 'disconnected', reason }));
    chat.on('connect_error', (error) => {
      // An active socket is retrying a transport failure (the Manager reports the attempts);
      // an inactive one was refused by the server's middleware and will not retry.
      if (chat.active) return;
      const { code, reason } = refusalOf(error);
      listener.onState(
        code === 'UNAUTHORIZED'
          ? { kind: 'unauthorized', reason }
          : { kind: 'refused', code, reason },
      );
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
