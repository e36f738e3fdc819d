import type { Manager } from 'socket.io-client';
import {
  ChatEvent,
  type ChatMessage,
  ChatRooms,
  type ChatSocket,
  type ConnectFailure,
  connectChat,
  connectNotifications,
  createManager,
  FAST_RECONNECTION,
  type InboxItem,
  type InboxListPayload,
  type InboxReadPayload,
  NotificationEvent,
  type NotificationsSocket,
  type PresenceChange,
  type PresenceState,
  type PresentUser,
  type RequestFailure,
  type RoomResume,
  type SendResult,
  type TypingChange,
  type UnreadCount,
  type UserRef,
} from '@nest-realtime-starter/client';
import type { Ack, Ok } from '../../gateway/ws-error.js';
import type { ConnectionState } from './connection-state.js';

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

/**
 * One connection of the page: `/chat` and `/notifications` multiplexed on one Manager, made by
 * the client package with its reconnection defaults. The package's `ChatRooms` joins the
 * page's rooms again on every connection, each with `since` its last message, and hands on
 * each message once, in order; this class adds presence and the page's states.
 */
export class ChatConnection implements InboxRequests {
  private readonly manager: Manager;
  private readonly chat: ChatSocket;
  private readonly notifications: NotificationsSocket;
  private readonly chatRooms: ChatRooms;
  private readonly rooms: RoomResume;
  private readonly presence = new Map<string, Map<string, PresentUser>>();
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
    this.manager = createManager(
      window.location.origin,
      options.fastReconnect ? FAST_RECONNECTION : {},
    );
    const getToken = (): string => {
      this.sentToken = options.token();
      return this.sentToken;
    };
    this.chat = connectChat(this.manager, {
      getToken,
      autoConnect: false,
      onConnectFailure: (failure) => this.refused(failure),
    });
    // No retries: a list or a read that timed out is asked for again by the user's next click.
    this.notifications = connectNotifications(this.manager, { getToken, autoConnect: false });
    this.chatRooms = new ChatRooms(
      this.chat,
      {
        joined: (room, messages, gap) => {
          listener.onJoined(room, messages, gap);
          void this.showPresence(room);
        },
        message: (message) => listener.onMessage(message),
        closed: (room, why) => {
          this.presence.delete(room);
          listener.onRooms(this.rooms.rooms());
          if (why.code === 'REMOVED')
            listener.onProblem(
              problem(ChatEvent.RoomRemoved, 'REMOVED', `#${room}: ${why.reason}`),
            );
          else this.report(asProblem(ChatEvent.RoomJoin, why));
        },
        draining: (reconnectInMs) => listener.onDraining(reconnectInMs),
      },
      this.rooms,
    );
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
    this.chatRooms.close();
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
    const answer = await this.chatRooms.open(room);
    this.listener.onRooms(this.rooms.rooms());
    return answer.ok ? undefined : asProblem(ChatEvent.RoomJoin, answer);
  }

  async leave(room: string): Promise<boolean> {
    const answer = await this.chatRooms.leave(room);
    if (!answer.ok) return this.report(asProblem(ChatEvent.RoomLeave, answer));
    this.presence.delete(room);
    this.listener.onRooms(this.rooms.rooms());
    return true;
  }

  /**
   * Sends a message; the caller shows it and then its outcome. The same `clientMsgId` on every
   * attempt, here and by Socket.IO's retries, keeps it one message.
   */
  async send(room: string, text: string, clientMsgId: string): Promise<Ok<SendResult> | Problem> {
    const answer = await this.chatRooms.send(room, text, clientMsgId);
    return answer.ok ? answer : asProblem(ChatEvent.MessageSend, answer);
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
      listener.onRooms(this.rooms.rooms());
    });
    chat.on('disconnect', (reason) =>
      listener.onState({ kind: 'disconnected', reason, willRetry: chat.active }),
    );
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
    chat.on(ChatEvent.Exception, ({ error }) =>
      listener.onProblem(problem('an event', error.code, error.message)),
    );
  }

  /**
   * A refusal the package did not cure: a token turned down (after one attempt with what
   * `token()` gives now, for an expired one), or another code. Transport failures, which
   * socket.io retries by itself, are reported by the Manager's events.
   */
  private refused(failure: ConnectFailure): void {
    if (failure.willRetry) return;
    if (failure.code === 'UNAUTHORIZED') return this.tokenRefused(failure.reason);
    this.listener.onState({ kind: 'refused', code: failure.code, reason: failure.reason });
  }

  private tokenRefused(reason: string): void {
    if (this.isClosed) return;
    const token = this.sentToken;
    if (this.options.onTokenRefused === undefined)
      return this.listener.onState({ kind: 'unauthorized', reason });
    this.options.onTokenRefused({ reason, token, accepted: token === this.acceptedToken });
  }

  /** After a (re)join: this user's state sent again, and who is in the room now. */
  private async showPresence(room: string): Promise<void> {
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

function asProblem(action: string, { code, message }: RequestFailure): Problem {
  return problem(action, code, message);
}
