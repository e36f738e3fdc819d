import { newClientMsgId } from './client-msg-id.js';
import type { ChatSocket } from './connect.js';
import {
  ChatEvent,
  type Ack,
  type ChatMessage,
  type ErrorCode,
  type JoinResult,
  type Ok,
  type SendResult,
} from './contract.js';
import { RoomResume } from './room-resume.js';

/** A request that got no success: the server's error, or one of the client's own. */
export interface RequestFailure {
  readonly ok: false;
  readonly code: ErrorCode | 'TIMEOUT' | 'NOT_CONNECTED' | 'CLOSED';
  readonly message: string;
}

export type Answer<T extends object> = Ok<T> | RequestFailure;

export interface ChatRoomsListener {
  /**
   * A room was (re)joined: the messages not handed on yet, oldest first. `gap`: the server
   * could not give everything since the last one (too many, or its history was lost).
   */
  joined?(room: string, messages: readonly ChatMessage[], gap: boolean): void;
  /** A live message, once, in offset order. */
  message?(message: ChatMessage): void;
  /** A room this client kept open was closed: not admitted again, or removed by the server. */
  closed?(
    room: string,
    failure: RequestFailure | { readonly code: 'REMOVED'; reason: string },
  ): void;
  /**
   * The instance is shutting down and lets the connection go within `reconnectInMs`; the
   * socket then reconnects by itself (through your load balancer, to another instance),
   * requests in flight are sent again and every open room is resumed.
   */
  draining?(reconnectInMs: number): void;
}

/**
 * The rooms a `/chat` client keeps open, resumed on every connection: each room is joined
 * again with `since` its last message (recovered by Socket.IO or not: recovery does not replay
 * messages), and each message is handed on once, in order. Sends carry a `clientMsgId`, the
 * same through every retry, so a send repeated after a lost ack or a reconnection is stored
 * and delivered once.
 *
 *   const chat = connectChat(url, { getToken });
 *   const rooms = new ChatRooms(chat, { joined: (room, messages) => show(messages), message: (m) => show([m]) });
 *   await rooms.open('lobby');
 *   await rooms.send('lobby', 'hello');
 */
export class ChatRooms {
  /** Per room, the join made last: a send refused meanwhile with NOT_IN_ROOM waits for it. */
  private readonly joins = new Map<string, Promise<Answer<JoinResult>>>();
  private readonly closing: Promise<RequestFailure>;
  private markClosed: () => void = () => undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    readonly socket: ChatSocket,
    private readonly listener: ChatRoomsListener = {},
    readonly resume: RoomResume = new RoomResume(),
  ) {
    this.closing = new Promise((resolve) => {
      this.markClosed = () =>
        resolve(failure('CLOSED', 'the connection was closed before an answer'));
    });
    this.listen('connect', () => this.rejoin());
    this.listen(ChatEvent.MessageNew, (message: ChatMessage) => {
      for (const fresh of this.resume.accept(message)) this.listener.message?.(fresh);
    });
    this.listen(ChatEvent.RoomRemoved, ({ room, reason }: { room: string; reason: string }) => {
      this.forget(room);
      this.listener.closed?.(room, { code: 'REMOVED', reason });
    });
    this.listen(ChatEvent.ServerDraining, ({ reconnectInMs }: { reconnectInMs: number }) =>
      this.listener.draining?.(reconnectInMs),
    );
    if (socket.connected) this.rejoin();
  }

  /** The open rooms, in the order they were opened. */
  rooms(): string[] {
    return this.resume.rooms();
  }

  /** Opens a room: joined now (its last messages come to `joined`) and on every reconnection. */
  async open(room: string): Promise<Answer<JoinResult>> {
    const wasOpen = this.resume.rooms().includes(room);
    const answer = await this.join(room);
    if (!answer.ok && !wasOpen) this.resume.forget(room);
    return answer;
  }

  /** Leaves a room and stops resuming it. */
  async leave(room: string): Promise<Answer<{ room: string }>> {
    const answer = await this.request(() => this.socket.emitWithAck(ChatEvent.RoomLeave, { room }));
    if (answer.ok) this.forget(room);
    return answer;
  }

  /**
   * Sends a message. Pass the `clientMsgId` of an earlier attempt to send that one again (after
   * a failure): the server answers a repeat with the first send's ack.
   */
  async send(
    room: string,
    text: string,
    clientMsgId: string = newClientMsgId(),
  ): Promise<Answer<SendResult> & { readonly clientMsgId: string }> {
    const attempt = () =>
      this.request(() =>
        this.socket.emitWithAck(ChatEvent.MessageSend, { room, text, clientMsgId }),
      );
    let answer = await attempt();
    if (!answer.ok && answer.code === 'NOT_IN_ROOM') {
      // Sent again right after a reconnection, before the room was joined again: once it is.
      const rejoin = this.joins.get(room);
      if (rejoin !== undefined && (await rejoin).ok) answer = await attempt();
    }
    // Not for a room closed meanwhile: recording it would open it again.
    if (answer.ok && this.resume.rooms().includes(room)) this.resume.sent(room, answer.id);
    return { ...answer, clientMsgId };
  }

  /**
   * Sends one request; a failure of any kind comes back as a `RequestFailure`. While the socket
   * is reconnecting by itself (a dropped connection, a drain) the request waits for the next
   * connection, and with the socket's `retries` one in flight is sent again after it;
   * `close()` answers what still waits. A socket that will not reconnect answers at once.
   */
  async request<T extends object>(send: () => Promise<Ack<T>>): Promise<Answer<T>> {
    if (!this.socket.connected && !this.socket.active)
      return failure('NOT_CONNECTED', 'connect first');
    try {
      const answer = await Promise.race([send(), this.closing]);
      if (answer.ok) return answer;
      return 'error' in answer ? failure(answer.error.code, answer.error.message) : answer;
    } catch (error) {
      return failure('TIMEOUT', error instanceof Error ? error.message : String(error));
    }
  }

  /** Stops listening to the socket and answers requests in flight with `CLOSED`. */
  close(): void {
    this.markClosed();
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private forget(room: string): void {
    this.resume.forget(room);
    this.joins.delete(room);
  }

  /** Joins every open room again; one the server no longer admits is closed. */
  private rejoin(): void {
    for (const room of this.resume.rooms())
      void this.join(room).then((answer) => {
        if (answer.ok || answer.code === 'NOT_CONNECTED' || answer.code === 'CLOSED') return;
        this.forget(room);
        this.listener.closed?.(room, answer);
      });
  }

  private join(room: string): Promise<Answer<JoinResult>> {
    const joining = this.joinNow(room);
    this.joins.set(room, joining);
    return joining;
  }

  private async joinNow(room: string): Promise<Answer<JoinResult>> {
    const answer = await this.request(() =>
      this.socket.emitWithAck(ChatEvent.RoomJoin, this.resume.joinPayload(room)),
    );
    if (!answer.ok) {
      // Only a payload that was sent holds live messages back.
      if (answer.code !== 'NOT_CONNECTED')
        for (const held of this.resume.joinFailed(room)) this.listener.message?.(held);
      return answer;
    }
    this.listener.joined?.(room, this.resume.joined(room, answer), answer.recovered === false);
    return answer;
  }

  private listen<A extends unknown[]>(event: string, handler: (...args: A) => void): void {
    const socket = this.socket as unknown as {
      on(event: string, handler: (...args: A) => void): unknown;
      off(event: string, handler: (...args: A) => void): unknown;
    };
    socket.on(event, handler);
    this.unsubscribe.push(() => socket.off(event, handler));
  }
}

function failure(code: RequestFailure['code'], message: string): RequestFailure {
  return { ok: false, code, message };
}
