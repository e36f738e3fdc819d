/**
 * The client side of gap-free rooms, with no DOM and no socket (`ChatRooms` drives it on a
 * socket; use it alone with a socket of your own). Per room it keeps the last position seen; on every (re)connection it asks to join
 * with `since`, and it hands on each message once, in offset order.
 *
 *   const rooms = new RoomResume();
 *   socket.on('connect', async () => {
 *     for (const room of rooms.rooms()) {
 *       const ack = await socket.emitWithAck('room:join', rooms.joinPayload(room));
 *       (ack.ok ? rooms.joined(room, ack) : rooms.joinFailed(room)).forEach(show);
 *     }
 *   });
 *   socket.on('message:new', (message) => rooms.accept(message).forEach(show));
 *
 * Live messages that arrive while a join is in flight are held and merged with the join's
 * page: a socket that Socket.IO recovered is back in its rooms before the ack, and on HTTP
 * long-polling the ack and the first messages can come in one response, handled before the
 * code awaiting the ack runs.
 */
import type { ChatMessage, JoinPayload, JoinResult, RoomPosition } from './contract.js';

/** Messages to ask for when opening a room for the first time. */
export const FIRST_PAGE = 50;
/** Ids remembered per room to drop repeats of messages that carry no offset. */
const REMEMBERED_IDS = 500;

interface Room {
  position: RoomPosition | undefined;
  readonly ids: Set<string>;
  /** Live messages held while a join is in flight; undefined when none is. */
  held: ChatMessage[] | undefined;
}

export class RoomResume {
  private readonly byRoom = new Map<string, Room>();

  /** The rooms to join again after a reconnect, in the order they were opened. */
  rooms(): string[] {
    return [...this.byRoom.keys()];
  }

  /** Opens a room: it is then joined on every connection until `forget`. */
  open(room: string): void {
    this.state(room);
  }

  forget(room: string): void {
    this.byRoom.delete(room);
  }

  position(room: string): RoomPosition | undefined {
    return this.byRoom.get(room)?.position;
  }

  /**
   * What to send with `room:join`: `since` where the room was seen before, else a first page.
   * Live messages of the room are held from now until `joined` or `joinFailed`.
   */
  joinPayload(room: string): JoinPayload {
    const state = this.state(room);
    state.held ??= [];
    const { position } = state;
    return position ? { room, since: position } : { room, history: FIRST_PAGE };
  }

  /**
   * Takes a join ack; returns the messages not shown yet (the ack's and the live ones held
   * meanwhile), oldest first. With a new epoch (the server's history was lost) or
   * `recovered: false`, what was shown may have a gap: the ack's page is then shown as it comes.
   */
  joined(room: string, ack: JoinResult): ChatMessage[] {
    const state = this.state(room);
    const held = state.held ?? [];
    state.held = undefined;
    if (ack.epoch !== undefined && state.position?.epoch !== ack.epoch) {
      state.position = { epoch: ack.epoch, offset: 0 };
    }
    const arrived = [...(ack.messages ?? []), ...held];
    const ordered = arrived.some((m) => m.offset === undefined)
      ? arrived
      : arrived.sort((a, b) => a.offset! - b.offset!);
    const fresh = ordered.filter((message) => this.take(state, message));
    if (ack.epoch !== undefined && ack.offset !== undefined)
      state.position = {
        epoch: ack.epoch,
        offset: Math.max(state.position?.offset ?? 0, ack.offset),
      };
    return fresh;
  }

  /** The join was refused or timed out: hands on the live messages held meanwhile. */
  joinFailed(room: string): ChatMessage[] {
    const state = this.byRoom.get(room);
    const held = state?.held ?? [];
    if (state) state.held = undefined;
    return held.filter((message) => this.take(state!, message));
  }

  /**
   * Records a message this client sent (its ack's id), shown already: the server sends no
   * `message:new` back to its sender, but a resume page holds it.
   */
  sent(room: string, id: string): void {
    this.state(room).ids.add(id);
  }

  /** Takes a live `message:new`; returns what to show now (nothing while its room is joining). */
  accept(message: ChatMessage): ChatMessage[] {
    const state = this.byRoom.get(message.room);
    if (!state) return [message];
    if (state.held) {
      state.held.push(message);
      return [];
    }
    return this.take(state, message) ? [message] : [];
  }

  private state(room: string): Room {
    let state = this.byRoom.get(room);
    if (!state) {
      state = { position: undefined, ids: new Set(), held: undefined };
      this.byRoom.set(room, state);
    }
    return state;
  }

  private take(state: Room, message: ChatMessage): boolean {
    if (state.ids.has(message.id)) return false;
    const { position } = state;
    if (message.offset !== undefined && position !== undefined) {
      if (message.offset <= position.offset) return false;
      state.position = { epoch: position.epoch, offset: message.offset };
    }
    state.ids.add(message.id);
    if (state.ids.size > REMEMBERED_IDS) state.ids.delete(state.ids.values().next().value!);
    return true;
  }
}
