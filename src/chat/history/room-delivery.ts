import type { Logger } from 'pino';
import type { Socket } from 'socket.io';
import { ChatEvent } from '../chat.events.js';
import type { HistoryPage, Published, RoomHistory, StoredMessage } from './room-history.js';

/** How long a message that came early waits for the ones before it, before history is asked. */
export const HEAL_AFTER_MS = 300;

/** A socket joining a room: what it is sent live waits until its join ack is out. */
interface Joiner {
  readonly socket: Socket;
  /** Messages up to this offset came (or come) with the join ack. */
  after: number;
  /** While the ack is not out: live messages for the socket, in order. */
  buffer: StoredMessage[] | undefined;
}

interface RoomState {
  /** Unknown until the first join of this instance has read the history. */
  epoch: string | undefined;
  delivered: number;
  /** Messages that came before their turn, by offset. */
  readonly held: Map<number, Published>;
  healing: NodeJS.Timeout | undefined;
  readonly joiners: Map<string, Joiner>;
}

/**
 * Hands a room's messages to this instance's sockets in offset order, exactly once each.
 *
 * Every instance hears every message from the history's feed (its own too, and it hands
 * those on at once, before the feed's copy arrives). One that comes before its turn is held;
 * if the gap is still open after `HEAL_AFTER_MS` (a message lost in transit) the missing ones
 * are read from the history. When the feed was cut, every room catches up from the history.
 *
 * A joining socket is in the room before the history is read, and what it is sent live waits
 * until its ack is out: the ack's messages and the live ones meet with no gap and no repeat.
 * Only rooms with sockets on this instance are followed.
 */
export class RoomDelivery {
  private readonly rooms = new Map<string, RoomState>();
  private namespace:
    { local: Socket['nsp']['local']; adapter: Socket['nsp']['adapter'] } | undefined;

  constructor(
    private readonly history: RoomHistory,
    private readonly pageSize: number,
    private readonly logger: Logger,
  ) {
    history.onPublished((published) => this.receive(published));
    history.onFeedRestored(() => void this.catchUp());
  }

  bind(namespace: Socket['nsp']): void {
    this.namespace = namespace;
  }

  /** Call before the socket joins the room and the history is read. */
  beginJoin(socket: Socket, room: string): void {
    const state = this.follow(room);
    state.joiners.set(socket.id, { socket, after: Infinity, buffer: [] });
  }

  /**
   * Call with the page the join ack carries (its `head` is what the ack covers). The live
   * messages that waited go out right after the ack.
   */
  completeJoin(socket: Socket, room: string, page: HistoryPage, { acked = true } = {}): void {
    const state = this.rooms.get(room);
    const joiner = state?.joiners.get(socket.id);
    if (!state || !joiner) return;
    // No ack carries the page (a socket followed again after a recovery): what came since
    // beginJoin all goes to it.
    joiner.after = acked ? page.head : 0;
    if (state.epoch === undefined) {
      // Unacked, messages heard since beginJoin are delivered even where the page holds them.
      const heard = acked ? Infinity : Math.min(...state.held.keys());
      this.start(state, room, { ...page, head: Math.min(page.head, heard - 1) });
    } else if (page.epoch !== state.epoch) joiner.after = 0;
    // After the ack: it is written once the handler's promise settles, in this same turn.
    setImmediate(() => this.flush(state, joiner));
  }

  /** The join failed: the socket is not in the room. `ifPending`: only if not completed. */
  abortJoin(socket: Socket, room: string, { ifPending = false } = {}): void {
    const joiner = this.rooms.get(room)?.joiners.get(socket.id);
    if (!joiner || (ifPending && joiner.after !== Infinity)) return;
    this.rooms.get(room)?.joiners.delete(socket.id);
    this.release(room);
  }

  /** A socket left the room (or disconnected): stop following it once nobody is left. */
  release(room: string): void {
    const state = this.rooms.get(room);
    if (!state || state.joiners.size > 0 || this.namespace?.adapter.rooms.has(room)) return;
    clearTimeout(state.healing);
    this.rooms.delete(room);
  }

  /** A message appended here: handed on now (the feed's copy is then a repeat). */
  receive(published: Published): void {
    const state = this.rooms.get(published.message.room);
    if (!state) return;
    const { offset } = published.message;
    if (state.epoch === undefined) {
      state.held.set(offset, published);
      return;
    }
    if (published.epoch !== state.epoch) this.restart(state, published);
    if (offset <= state.delivered) return;
    if (offset === state.delivered + 1) {
      this.deliver(state, published);
      this.drain(state);
      return;
    }
    state.held.set(offset, published);
    state.healing ??= setTimeout(() => void this.heal(published.message.room), HEAL_AFTER_MS);
  }

  private follow(room: string): RoomState {
    let state = this.rooms.get(room);
    if (!state) {
      state = {
        epoch: undefined,
        delivered: 0,
        held: new Map(),
        healing: undefined,
        joiners: new Map(),
      };
      this.rooms.set(room, state);
    }
    return state;
  }

  /** The first join of this instance read the history: live messages count from its head. */
  private start(state: RoomState, room: string, page: HistoryPage): void {
    state.epoch = page.epoch;
    state.delivered = page.head;
    const held = [...state.held.values()];
    state.held.clear();
    for (const published of held) if (published.message.room === room) this.receive(published);
  }

  /** The history was lost and begun again: offsets count from the new epoch's first. */
  private restart(state: RoomState, published: Published): void {
    state.epoch = published.epoch;
    state.delivered = published.message.offset - 1;
    state.held.clear();
    for (const joiner of state.joiners.values()) joiner.after = 0;
  }

  private deliver(state: RoomState, { sender, message }: Published): void {
    state.delivered = message.offset;
    const except = [sender];
    for (const [id, joiner] of state.joiners) {
      if (joiner.buffer) {
        // Its ack is not out: sorted against the ack's messages when it is.
        joiner.buffer.push(message);
        except.push(id);
      } else if (message.offset <= joiner.after) except.push(id);
      else state.joiners.delete(id);
    }
    this.namespace?.local.to(message.room).except(except).emit(ChatEvent.MessageNew, message);
  }

  private drain(state: RoomState): void {
    for (let next = state.held.get(state.delivered + 1); next;) {
      state.held.delete(next.message.offset);
      this.deliver(state, next);
      next = state.held.get(state.delivered + 1);
    }
    if (state.held.size === 0) {
      clearTimeout(state.healing);
      state.healing = undefined;
    }
  }

  /** Reads what is missing from the history; what it no longer has is skipped. */
  private async heal(room: string): Promise<void> {
    const state = this.rooms.get(room);
    if (!state) return;
    state.healing = undefined;
    try {
      await this.catchUpRoom(room, state);
    } catch (error) {
      this.logger.warn({ err: error, room }, 'could not read missing messages from history');
    }
    if (state.held.size === 0 || this.rooms.get(room) !== state) return;
    // Still a gap: those messages are gone from the history; deliver what follows.
    state.delivered = Math.min(...state.held.keys()) - 1;
    this.drain(state);
  }

  private async catchUpRoom(room: string, state: RoomState): Promise<void> {
    if (state.epoch === undefined) return;
    const page = await this.history.after(room, state.delivered, this.pageSize);
    for (const message of page.messages) this.receive({ epoch: page.epoch, sender: '', message });
  }

  /** After the feed was cut: every followed room reads what it may have missed. */
  private async catchUp(): Promise<void> {
    for (const [room, state] of this.rooms) {
      try {
        await this.catchUpRoom(room, state);
      } catch (error) {
        this.logger.warn({ err: error, room }, 'could not catch up a room from history');
      }
    }
  }

  /** The join ack is out: what waited goes to the socket, then it gets messages live. */
  private flush(state: RoomState, joiner: Joiner): void {
    const waiting = joiner.buffer ?? [];
    joiner.buffer = undefined;
    const { socket } = joiner;
    if (socket.connected)
      for (const message of waiting)
        if (message.offset > joiner.after)
          this.namespace?.local.to(socket.id).emit(ChatEvent.MessageNew, message);
    if (joiner.after <= state.delivered) state.joiners.delete(socket.id);
  }
}
