import type { ChatMessage, UserRef } from '../chat.events.js';

/** A message as the history keeps it: with its offset in the room. */
export interface StoredMessage extends ChatMessage {
  readonly offset: number;
}

/** What a send asks the history to keep. */
export interface NewMessage {
  readonly id: string;
  readonly room: string;
  readonly from: UserRef;
  readonly text: string;
  readonly ts: number;
}

export interface Appended {
  readonly epoch: string;
  readonly message: StoredMessage;
  /** True when this was a repeat of an earlier send (same user and `clientMsgId`). */
  readonly duplicate: boolean;
}

/** Part of a room's history, oldest first, with the room's newest offset (`head`). */
export interface HistoryPage {
  readonly epoch: string;
  readonly head: number;
  readonly messages: readonly StoredMessage[];
}

/** A message as every instance hears of it; `sender` is the socket that sent it. */
export interface Published {
  readonly epoch: string;
  readonly sender: string;
  readonly message: StoredMessage;
}

/** How long a `clientMsgId` is remembered. */
export const DEDUPE_WINDOW_S = 600;

/**
 * How long a room that was read or joined but never written keeps its epoch. Short, so that
 * reading many room names leaves little behind; a room with messages keeps the full TTL.
 */
export const EMPTY_ROOM_TTL_S = 300;

/**
 * Each room's last messages, and the feed that tells every instance of a new one. `append`
 * gives a message the room's next offset, stores it and publishes it, as one step: the feed
 * carries a room's messages in offset order. `epoch` names the history's lifetime: when the
 * history is lost (Redis emptied, or idle past its TTL), offsets start again under a new one.
 */
export interface RoomHistory {
  /** `dedupe`: the sender's id for the message; a repeat returns the first. */
  append(message: NewMessage, sender: string, dedupe?: string): Promise<Appended>;
  /** The newest `limit` messages. */
  latest(room: string, limit: number): Promise<HistoryPage>;
  /** The messages after `offset`, at most `limit`. */
  after(room: string, offset: number, limit: number): Promise<HistoryPage>;
  /** The `limit` messages before `offset`. */
  before(room: string, offset: number, limit: number): Promise<HistoryPage>;
  /** Every message appended, on any instance (this one included). */
  onPublished(listener: (published: Published) => void): void;
  /** The feed was cut and is back: what it carried meanwhile may be missing. */
  onFeedRestored(listener: () => void): void;
}

export const ROOM_HISTORY = Symbol('ROOM_HISTORY');

/** A dedupe key's user part: length-prefixed, so no two (user, id) pairs share a key. */
export function dedupeKey(userId: string, clientMsgId: string): string {
  return `${userId.length}:${userId}:${clientMsgId}`;
}
