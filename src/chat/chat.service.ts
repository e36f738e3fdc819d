import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_LOGGER } from '../logging/logging.module.js';
import { MetricsService } from '../metrics/metrics.service.js';
import type { AppNamespace, AppSocket } from '../gateway/socket-types.js';
import { WsError } from '../gateway/ws-error.js';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatClientToServerEvents,
  type ChatServerToClientEvents,
  type PresenceListAck,
  type RoomAck,
  type SendAck,
  type SendMessagePayload,
  type UserRef,
} from './chat.events.js';
import { eventId } from '../common/event-id.js';
import { PRESENCE_STORE, type PresenceStore } from './presence/presence.store.js';

export type ChatSocket = AppSocket<ChatClientToServerEvents, ChatServerToClientEvents>;
export type ChatNamespace = AppNamespace<ChatClientToServerEvents, ChatServerToClientEvents>;

export const MAX_ROOMS_PER_SOCKET = 50;
export const RESERVED_ROOM_PREFIX = 'user:';

/** Room rules, messages and presence for `/chat`; the gateway only validates and delegates. */
@Injectable()
export class ChatService {
  private readonly emitted;

  constructor(
    @Inject(PRESENCE_STORE) private readonly presence: PresenceStore,
    @Inject(APP_LOGGER) private readonly logger: Logger,
    metrics: MetricsService,
  ) {
    const counter = (event: string) => metrics.emitted(CHAT_NAMESPACE, event);
    this.emitted = {
      message: counter(ChatEvent.MessageNew),
      joined: counter(ChatEvent.PresenceJoined),
      left: counter(ChatEvent.PresenceLeft),
    };
  }

  /** Announces users whose instance died without them leaving (cluster presence). */
  bindNamespace(namespace: ChatNamespace): void {
    this.presence.onUsersGone?.((room, users) => {
      for (const user of users) {
        namespace.to(room).emit(ChatEvent.PresenceLeft, { room, user });
        this.emitted.left.inc();
      }
    });
    this.presence.onUsersBack?.((room, users) => {
      for (const user of users) {
        namespace.to(room).emit(ChatEvent.PresenceJoined, { room, user });
        this.emitted.joined.inc();
      }
    });
  }

  /** The rooms each socket is counted in, in the presence store: what `leaveAll` undoes. */
  private readonly counted = new WeakMap<ChatSocket, Set<string>>();

  async join(socket: ChatSocket, room: string): Promise<RoomAck> {
    if (room.startsWith(RESERVED_ROOM_PREFIX)) {
      throw new WsError('FORBIDDEN', `Rooms starting with "${RESERVED_ROOM_PREFIX}" are reserved`);
    }
    // Every socket sits in a room named after its id; joining one would read its private traffic.
    if (room === socket.id || socket.nsp.adapter.sids.has(room)) {
      throw new WsError('FORBIDDEN', 'This room name is reserved');
    }
    if (socket.rooms.has(room)) return { ok: true, room };
    // socket.rooms also holds the socket's own id room.
    if (socket.rooms.size - 1 >= MAX_ROOMS_PER_SOCKET) {
      throw new WsError('FORBIDDEN', `A socket may be in at most ${MAX_ROOMS_PER_SOCKET} rooms`);
    }
    await socket.join(room);
    try {
      await this.count(socket, room);
    } catch (error) {
      // Not left half-joined: a retry must record presence and announce it.
      await socket.leave(room);
      throw error;
    }
    return { ok: true, room };
  }

  async leave(socket: ChatSocket, room: string): Promise<RoomAck> {
    this.assertMember(socket, room);
    await socket.leave(room);
    await this.uncount(socket, room);
    return { ok: true, room };
  }

  send(socket: ChatSocket, { room, text }: SendMessagePayload): SendAck {
    this.assertMember(socket, room);
    const ts = Date.now();
    const id = eventId(ts);
    socket.to(room).emit(ChatEvent.MessageNew, { id, room, from: userOf(socket), text, ts });
    this.emitted.message.inc();
    return { ok: true, id, ts };
  }

  async list(socket: ChatSocket, room: string): Promise<PresenceListAck> {
    this.assertMember(socket, room);
    return { ok: true, users: await this.presence.list(room) };
  }

  /**
   * A socket recovered by connection state recovery is back in its rooms, but its presence
   * was removed when it disconnected: count it again, and announce users who come back.
   */
  async restore(socket: ChatSocket): Promise<void> {
    try {
      for (const room of socket.rooms) {
        if (!socket.connected) return;
        if (room !== socket.id) await this.count(socket, room);
      }
    } catch (error) {
      this.logger.warn({ err: error, socketId: socket.id }, 'presence restore failed');
    }
  }

  /** Called while the socket is disconnecting: undoes what it is counted in. */
  async leaveAll(socket: ChatSocket): Promise<void> {
    const rooms = [...(this.counted.get(socket) ?? [])];
    const results = await Promise.allSettled(rooms.map((room) => this.uncount(socket, room)));
    const failed = results.filter((result) => result.status === 'rejected').length;
    if (failed > 0) this.logger.warn({ socketId: socket.id, failed }, 'presence cleanup failed');
  }

  /** Counts the socket in the room's presence; announces the user's first socket. */
  private async count(socket: ChatSocket, room: string): Promise<void> {
    const user = userOf(socket);
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
    const user = userOf(socket);
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

function userOf(socket: ChatSocket): UserRef {
  const { id, name } = socket.data.user;
  return { id, name };
}
