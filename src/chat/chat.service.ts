import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { eventId } from '../common/event-id.js';
import type { AppNamespace, AppSocket } from '../gateway/socket-types.js';
import { WsError } from '../gateway/ws-error.js';
import { APP_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { LifecycleEvent } from '../events/lifecycle-events.js';
import { LifecyclePublisher } from '../events/lifecycle-publisher.js';
import { RoomAccess } from './access/room-access.js';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatClientToServerEvents,
  type ChatServerToClientEvents,
  type HistoryAck,
  type HistoryPayload,
  type JoinAck,
  type JoinPayload,
  type OkAck,
  type PresenceListAck,
  type PresenceUpdatePayload,
  type RoomAck,
  type SendAck,
  type SendMessagePayload,
  type SendResult,
  type UserRef,
} from './chat.events.js';
import { MAX_PAGE } from './dto/chat.schemas.js';
import { RoomDelivery } from './history/room-delivery.js';
import {
  dedupeKey,
  type HistoryPage,
  ROOM_HISTORY,
  type RoomHistory,
} from './history/room-history.js';
import { PRESENCE_STORE, type PresenceStore } from './presence/presence.store.js';
import { SocketQueue } from './socket-queue.js';
import { TypingService } from './typing/typing.service.js';

export type ChatSocket = AppSocket<ChatClientToServerEvents, ChatServerToClientEvents>;
export type ChatNamespace = AppNamespace<ChatClientToServerEvents, ChatServerToClientEvents>;

export const MAX_ROOMS_PER_SOCKET = 50;
export const RESERVED_ROOM_PREFIX = 'user:';
/** `room:history` without a `limit`. */
export const DEFAULT_HISTORY_PAGE = 50;
/**
 * Where presence counts each user's `/chat` sockets, for `user.online` and `user.offline`.
 * Not a valid room name, so no client can join it.
 */
export const ONLINE = '@online';

/**
 * Room rules, messages, history, presence and typing for `/chat`; the gateway only validates
 * and delegates. One socket's operations run in the order it sent them (`SocketQueue`).
 */
@Injectable()
export class ChatService {
  private readonly emitted;
  private readonly queue = new SocketQueue();
  /** Hands messages to this instance's sockets in offset order (with history on). */
  private readonly delivery: RoomDelivery | undefined;

  constructor(
    @Inject(PRESENCE_STORE) private readonly presence: PresenceStore,
    @Inject(ROOM_HISTORY) private readonly history: RoomHistory | null,
    private readonly access: RoomAccess,
    private readonly typing: TypingService,
    private readonly lifecycle: LifecyclePublisher,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    const counter = (event: string) => metrics.emitted(CHAT_NAMESPACE, event);
    this.emitted = {
      message: counter(ChatEvent.MessageNew),
      joined: counter(ChatEvent.PresenceJoined),
      left: counter(ChatEvent.PresenceLeft),
      updated: counter(ChatEvent.PresenceUpdated),
    };
    if (history) this.delivery = new RoomDelivery(history, MAX_PAGE, logger);
    presence.onRoomChange((room, occupied) => {
      if (room !== ONLINE)
        lifecycle.publish(occupied ? LifecycleEvent.RoomOccupied : LifecycleEvent.RoomVacated, {
          room,
        });
    });
  }

  private boundNamespace: ChatNamespace | undefined;

  /** The `/chat` namespace, once its gateway is up. */
  get namespace(): ChatNamespace {
    if (!this.boundNamespace) throw new Error('the /chat gateway is not initialised yet');
    return this.boundNamespace;
  }

  /** Announces users whose instance died without them leaving (cluster presence). */
  bindNamespace(namespace: ChatNamespace): void {
    this.boundNamespace = namespace;
    this.delivery?.bind(namespace);
    this.typing.bind(namespace);
    this.presence.onUsersGone?.((room, users) => {
      if (room === ONLINE) {
        for (const { id } of users)
          this.lifecycle.publish(LifecycleEvent.UserOffline, { userId: id });
        return;
      }
      for (const user of users) {
        namespace.to(room).emit(ChatEvent.PresenceLeft, { room, user });
        this.emitted.left.inc();
      }
    });
    this.presence.onUsersBack?.((room, users) => {
      if (room === ONLINE) {
        for (const { id } of users)
          this.lifecycle.publish(LifecycleEvent.UserOnline, { userId: id });
        return;
      }
      for (const user of users) {
        namespace.to(room).emit(ChatEvent.PresenceJoined, { room, user });
        this.emitted.joined.inc();
      }
    });
  }

  /** The rooms each socket is counted in, in the presence store: what `leaveAll` undoes. */
  private readonly counted = new WeakMap<ChatSocket, Set<string>>();

  join(socket: ChatSocket, payload: JoinPayload): Promise<JoinAck> {
    return this.queue.run(socket, () => this.joinNow(socket, payload));
  }

  leave(socket: ChatSocket, room: string): Promise<RoomAck> {
    return this.queue.run(socket, async () => {
      this.assertMember(socket, room);
      this.typing.stop(socket, room, refOf(socket));
      await socket.leave(room);
      this.delivery?.release(room);
      await this.uncount(socket, room);
      return { ok: true, room };
    });
  }

  send(socket: ChatSocket, payload: SendMessagePayload): SendAck | Promise<SendAck> {
    return this.queue.run(socket, () => this.sendNow(socket, payload));
  }

  readHistory(socket: ChatSocket, { room, before, limit }: HistoryPayload): Promise<HistoryAck> {
    return this.queue.run(socket, async () => {
      await this.admit(socket, room);
      if (!this.history) return { ok: true, room, epoch: '', messages: [] };
      const size = limit ?? DEFAULT_HISTORY_PAGE;
      const page =
        before === undefined
          ? await this.history.latest(room, size)
          : await this.history.before(room, before, size);
      return { ok: true, room, epoch: page.epoch, messages: page.messages };
    });
  }

  list(socket: ChatSocket, room: string): Promise<PresenceListAck> {
    return this.queue.run(socket, async () => {
      this.assertMember(socket, room);
      await this.admit(socket, room);
      return { ok: true, users: await this.presence.list(room) };
    });
  }

  updateState(socket: ChatSocket, { room, state }: PresenceUpdatePayload): Promise<OkAck> {
    return this.queue.run(socket, async () => {
      this.assertMember(socket, room);
      const user = refOf(socket);
      if (await this.presence.setState(room, user.id, state)) {
        socket.to(room).emit(ChatEvent.PresenceUpdated, { room, user, state });
        this.emitted.updated.inc();
      }
      return { ok: true };
    });
  }

  /** Queued like the rest, so a typing:start right behind its room:join finds the socket in. */
  typingStart(socket: ChatSocket, room: string): OkAck | Promise<OkAck> {
    return this.queue.run(socket, (): OkAck => {
      this.assertMember(socket, room);
      this.typing.start(socket, room, refOf(socket));
      return { ok: true };
    });
  }

  typingStop(socket: ChatSocket, room: string): OkAck | Promise<OkAck> {
    return this.queue.run(socket, (): OkAck => {
      this.assertMember(socket, room);
      this.typing.stop(socket, room, refOf(socket));
      return { ok: true };
    });
  }

  /**
   * A message from the backend rather than from a socket (the service API): stored and
   * delivered like any other, to every member.
   */
  async post(room: string, from: UserRef, text: string): Promise<SendResult> {
    const ts = Date.now();
    const message = { id: eventId(ts), room, from, text, ts };
    if (!this.history || !this.delivery) {
      this.namespace.to(room).emit(ChatEvent.MessageNew, message);
      this.emitted.message.inc();
      return { id: message.id, ts };
    }
    const appended = await this.history.append(message, '');
    this.delivery.receive({ epoch: appended.epoch, sender: '', message: appended.message });
    this.emitted.message.inc();
    return { id: message.id, ts, offset: appended.message.offset };
  }

  /**
   * Takes this instance's sockets of a user out of a room, each told with `room:removed`;
   * resolves to how many there were. Other instances are asked by the caller.
   */
  async removeHere(userId: string, room: string, reason: string): Promise<number> {
    const sockets = [...this.namespace.sockets.values()].filter(
      (socket) => socket.data.user?.id === userId && socket.rooms.has(room) && room !== socket.id,
    );
    await Promise.all(
      sockets.map((socket) =>
        this.queue.run(socket, async () => {
          if (!socket.rooms.has(room)) return;
          this.typing.stop(socket, room, refOf(socket));
          await socket.leave(room);
          this.delivery?.release(room);
          socket.emit(ChatEvent.RoomRemoved, { room, reason });
          await this.uncount(socket, room);
        }),
      ),
    );
    return sockets.length;
  }

  /** Who is in the room, cluster-wide (users from presence). */
  async members(room: string): Promise<UserRef[]> {
    return (await this.presence.list(room)).map(({ id, name }) => ({ id, name }));
  }

  /**
   * A socket recovered by connection state recovery is back in its rooms, but its presence
   * was removed when it disconnected: count it again, and announce users who come back.
   */
  async restore(socket: ChatSocket): Promise<void> {
    const rooms = [...socket.rooms].filter((room) => room !== socket.id);
    // Followed from this turn, before anything is awaited: a message sent as soon as the
    // client sees its connect must find this instance listening.
    const following = this.delivery && this.history ? rooms : [];
    for (const room of following) this.delivery!.beginJoin(socket, room);
    try {
      for (const room of rooms) {
        if (!socket.connected) break;
        await this.count(socket, room);
      }
      for (const room of following) {
        const page = await this.history!.latest(room, 0);
        this.delivery!.completeJoin(socket, room, page, { acked: false });
      }
    } catch (error) {
      this.logger.warn({ err: error, socketId: socket.id }, 'presence restore failed');
    } finally {
      // Those not completed (a failure, or the socket went): no longer waited for.
      for (const room of following) this.delivery!.abortJoin(socket, room, { ifPending: true });
    }
  }

  /** Counts a new (or recovered) socket as its user's; the first makes the user online. */
  async connected(socket: ChatSocket): Promise<void> {
    const user = refOf(socket);
    try {
      if (await this.presence.join(ONLINE, user, socket.id))
        this.lifecycle.publish(LifecycleEvent.UserOnline, { userId: user.id });
      // It disconnected meanwhile: its leaveAll may have run before this join landed.
      if (!socket.connected) await this.offline(socket);
    } catch (error) {
      this.logger.warn({ err: error, socketId: socket.id }, 'online presence failed');
    }
  }

  /** Called while the socket is disconnecting: undoes what it is counted in. */
  async leaveAll(socket: ChatSocket): Promise<void> {
    void this.offline(socket).catch((error: unknown) =>
      this.logger.warn({ err: error, socketId: socket.id }, 'online presence cleanup failed'),
    );
    this.typing.stopAll(socket, refOf(socket));
    const rooms = [...(this.counted.get(socket) ?? [])];
    // Once the socket is out of its rooms: rooms nobody here is in are no longer followed.
    setImmediate(() => {
      for (const room of rooms) this.delivery?.release(room);
    });
    const results = await Promise.allSettled(rooms.map((room) => this.uncount(socket, room)));
    const failed = results.filter((result) => result.status === 'rejected').length;
    if (failed > 0) this.logger.warn({ socketId: socket.id, failed }, 'presence cleanup failed');
  }

  private async joinNow(
    socket: ChatSocket,
    { room, history, since }: JoinPayload,
  ): Promise<JoinAck> {
    this.assertJoinable(socket, room);
    await this.admit(socket, room);
    const delivery = this.delivery;
    if (!delivery || !this.history) {
      await this.enter(socket, room);
      return { ok: true, room };
    }
    delivery.beginJoin(socket, room);
    const entered = !socket.rooms.has(room);
    try {
      if (entered) await this.enter(socket, room);
      const { page, recovered } = await this.pageFor(room, history, since);
      delivery.completeJoin(socket, room, page);
      const messages = history !== undefined || since !== undefined ? page.messages : undefined;
      return { ok: true, room, offset: page.head, epoch: page.epoch, messages, recovered };
    } catch (error) {
      delivery.abortJoin(socket, room);
      if (entered && socket.rooms.has(room)) {
        await socket.leave(room);
        await this.uncount(socket, room).catch(() => undefined);
      }
      throw error;
    }
  }

  /** What a join ack carries: nothing, the last `history`, or what came after `since`. */
  private async pageFor(
    room: string,
    history: number | undefined,
    since: JoinPayload['since'],
  ): Promise<{ page: HistoryPage; recovered?: boolean }> {
    const store = this.history!;
    if (since === undefined) return { page: await store.latest(room, history ?? 0) };
    const missed = await store.after(room, since.offset, MAX_PAGE + 1);
    const { messages, head, epoch } = missed;
    const complete =
      epoch === since.epoch &&
      since.offset <= head &&
      messages.length <= MAX_PAGE &&
      (head === since.offset || messages[0]?.offset === since.offset + 1);
    if (complete) return { page: missed, recovered: true };
    return { page: await store.latest(room, MAX_PAGE), recovered: false };
  }

  /** Synchronous where it can be (history off, no async room rule): no promise per message. */
  private sendNow(socket: ChatSocket, payload: SendMessagePayload): SendAck | Promise<SendAck> {
    this.assertMember(socket, payload.room);
    const allowed = this.access.mayEnter(socket.data.user, payload.room);
    if (allowed === true) return this.deliverMessage(socket, payload);
    if (allowed === false) throw forbidden(payload.room);
    return allowed.then((yes) => {
      if (!yes) throw forbidden(payload.room);
      return this.deliverMessage(socket, payload);
    });
  }

  private deliverMessage(
    socket: ChatSocket,
    { room, text, clientMsgId }: SendMessagePayload,
  ): SendAck | Promise<SendAck> {
    const ts = Date.now();
    const id = eventId(ts);
    const from = refOf(socket);
    if (!this.history || !this.delivery) {
      socket.to(room).emit(ChatEvent.MessageNew, { id, room, from, text, ts });
      this.emitted.message.inc();
      return { ok: true, id, ts };
    }
    const delivery = this.delivery;
    const dedupe = clientMsgId === undefined ? undefined : dedupeKey(from.id, clientMsgId);
    return this.history
      .append({ id, room, from, text, ts }, socket.id, dedupe)
      .then(({ epoch, message, duplicate }) => {
        if (!duplicate) {
          delivery.receive({ epoch, sender: socket.id, message });
          this.emitted.message.inc();
        }
        return { ok: true as const, id: message.id, ts: message.ts, offset: message.offset };
      });
  }

  private async offline(socket: ChatSocket): Promise<void> {
    const user = refOf(socket);
    if (await this.presence.leave(ONLINE, user, socket.id))
      this.lifecycle.publish(LifecycleEvent.UserOffline, { userId: user.id });
  }

  /** FORBIDDEN unless the room's rules let this user in (checked again on every send). */
  private async admit(socket: ChatSocket, room: string): Promise<void> {
    if (!(await this.access.mayEnter(socket.data.user, room))) throw forbidden(room);
  }

  private assertJoinable(socket: ChatSocket, room: string): void {
    if (room.startsWith(RESERVED_ROOM_PREFIX)) {
      throw new WsError('FORBIDDEN', `Rooms starting with "${RESERVED_ROOM_PREFIX}" are reserved`);
    }
    // Every socket sits in a room named after its id; joining one would read its private traffic.
    if (room === socket.id || socket.nsp.adapter.sids.has(room)) {
      throw new WsError('FORBIDDEN', 'This room name is reserved');
    }
    // socket.rooms also holds the socket's own id room.
    if (!socket.rooms.has(room) && socket.rooms.size - 1 >= MAX_ROOMS_PER_SOCKET) {
      throw new WsError('FORBIDDEN', `A socket may be in at most ${MAX_ROOMS_PER_SOCKET} rooms`);
    }
  }

  /** Puts the socket in the room and counts its presence; not left half-joined. */
  private async enter(socket: ChatSocket, room: string): Promise<void> {
    if (socket.rooms.has(room)) return;
    await socket.join(room);
    try {
      await this.count(socket, room);
    } catch (error) {
      // Not left half-joined: a retry must record presence and announce it.
      await socket.leave(room);
      throw error;
    }
  }

  /** Counts the socket in the room's presence; announces the user's first socket. */
  private async count(socket: ChatSocket, room: string): Promise<void> {
    const user = refOf(socket);
    let rooms = this.counted.get(socket);
    if (!rooms) {
      rooms = new Set();
      this.counted.set(socket, rooms);
    }
    // Recorded before the write, so a leave or a disconnect meanwhile undoes exactly it.
    rooms.add(room);
    let first: boolean;
    try {
      first = await this.presence.join(room, user, socket.id);
    } catch (error) {
      rooms.delete(room);
      throw error;
    }
    if (first && rooms.has(room)) {
      socket.to(room).emit(ChatEvent.PresenceJoined, { room, user });
      this.emitted.joined.inc();
    }
    // It disconnected while the count was in flight: its cleanup may have run already.
    if (!socket.connected) await this.uncount(socket, room);
  }

  private async uncount(socket: ChatSocket, room: string): Promise<void> {
    const rooms = this.counted.get(socket);
    if (!rooms?.delete(room)) return;
    const user = refOf(socket);
    if (await this.presence.leave(room, user, socket.id)) {
      socket.to(room).emit(ChatEvent.PresenceLeft, { room, user });
      this.emitted.left.inc();
    }
  }

  private assertMember(socket: ChatSocket, room: string): void {
    if (!socket.rooms.has(room) || room === socket.id) {
      throw new WsError('NOT_IN_ROOM', `Join "${room}" first`);
    }
  }
}

function forbidden(room: string): WsError {
  return new WsError('FORBIDDEN', `Not allowed in "${room}"`);
}

function refOf(socket: ChatSocket): UserRef {
  const { id, name } = socket.data.user;
  return { id, name };
}
