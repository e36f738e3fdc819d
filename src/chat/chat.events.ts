/**
 * The `/chat` namespace's contract: event names, payloads and acks. The gateway, the tests
 * and the demo client all import it; no event name is written anywhere else.
 */
import { ServerEvent, type ServerEvents } from '../gateway/server-events.js';
import type { Ack, AckCallback } from '../gateway/ws-error.js';

export const CHAT_NAMESPACE = '/chat';

export const ChatEvent = {
  RoomJoin: 'room:join',
  RoomLeave: 'room:leave',
  RoomHistory: 'room:history',
  MessageSend: 'message:send',
  PresenceList: 'presence:list',
  PresenceUpdate: 'presence:update',
  TypingStart: 'typing:start',
  TypingStop: 'typing:stop',
  MessageNew: 'message:new',
  PresenceJoined: 'presence:joined',
  PresenceLeft: 'presence:left',
  PresenceUpdated: 'presence:updated',
  Typing: 'typing',
  RoomRemoved: 'room:removed',
  ServerDraining: ServerEvent.Draining,
  Exception: ServerEvent.Exception,
} as const;

export interface UserRef {
  readonly id: string;
  readonly name: string;
}

/** A user's small status object (`{ "status": "away" }`), at most 256 bytes as JSON. */
export type PresenceState = Readonly<Record<string, unknown>>;

export interface PresentUser extends UserRef {
  readonly state?: PresenceState;
}

export interface RoomPayload {
  readonly room: string;
}

/** Where a client is in a room's history: `offset` in the history named by `epoch`. */
export interface RoomPosition {
  readonly offset: number;
  readonly epoch: string;
}

export interface JoinPayload extends RoomPayload {
  /** The last `history` messages (1–100) come with the ack. */
  readonly history?: number;
  /** Every message after this position comes with the ack (resume after a reconnect). */
  readonly since?: RoomPosition;
}

export interface HistoryPayload extends RoomPayload {
  /** Messages before this offset (default: the newest). */
  readonly before?: number;
  readonly limit?: number;
}

export interface SendMessagePayload {
  readonly room: string;
  readonly text: string;
  /** The client's id for this message: a repeat within 10 minutes gets the first ack. */
  readonly clientMsgId?: string;
}

export interface PresenceUpdatePayload extends RoomPayload {
  readonly state: PresenceState;
}

export interface ChatMessage {
  readonly id: string;
  readonly room: string;
  readonly from: UserRef;
  readonly text: string;
  readonly ts: number;
  /** One more than the room's message before (absent with `ROOM_HISTORY_SIZE=0`). */
  readonly offset?: number;
}

export interface PresenceChange {
  readonly room: string;
  readonly user: UserRef;
}

export interface PresenceUpdated extends PresenceChange {
  readonly state: PresenceState;
}

export interface TypingChange extends PresenceChange {
  readonly typing: boolean;
}

export interface RoomRemoved {
  readonly room: string;
  readonly reason: string;
}

export interface JoinResult {
  readonly room: string;
  /** The room's position now (absent with history off). */
  readonly offset?: number;
  readonly epoch?: string;
  /** Oldest first: the last `history`, or what came after `since`. */
  readonly messages?: readonly ChatMessage[];
  /** With `since`: true when `messages` is everything after it, nothing dropped. */
  readonly recovered?: boolean;
}

export interface HistoryResult {
  readonly room: string;
  readonly epoch: string;
  readonly messages: readonly ChatMessage[];
}

export interface SendResult {
  readonly id: string;
  readonly ts: number;
  readonly offset?: number;
}

export type RoomAck = Ack<{ room: string }>;
export type JoinAck = Ack<JoinResult>;
export type HistoryAck = Ack<HistoryResult>;
export type SendAck = Ack<SendResult>;
export type PresenceListAck = Ack<{ users: PresentUser[] }>;
export type OkAck = Ack;

export interface ChatClientToServerEvents {
  [ChatEvent.RoomJoin]: (payload: JoinPayload, ack: AckCallback<JoinResult>) => void;
  [ChatEvent.RoomLeave]: (payload: RoomPayload, ack: AckCallback<{ room: string }>) => void;
  [ChatEvent.RoomHistory]: (payload: HistoryPayload, ack: AckCallback<HistoryResult>) => void;
  [ChatEvent.MessageSend]: (payload: SendMessagePayload, ack: AckCallback<SendResult>) => void;
  [ChatEvent.PresenceList]: (
    payload: RoomPayload,
    ack: AckCallback<{ users: PresentUser[] }>,
  ) => void;
  [ChatEvent.PresenceUpdate]: (payload: PresenceUpdatePayload, ack: AckCallback) => void;
  [ChatEvent.TypingStart]: (payload: RoomPayload, ack?: AckCallback) => void;
  [ChatEvent.TypingStop]: (payload: RoomPayload, ack?: AckCallback) => void;
}

export interface ChatServerToClientEvents extends ServerEvents {
  [ChatEvent.MessageNew]: (message: ChatMessage) => void;
  [ChatEvent.PresenceJoined]: (change: PresenceChange) => void;
  [ChatEvent.PresenceLeft]: (change: PresenceChange) => void;
  [ChatEvent.PresenceUpdated]: (change: PresenceUpdated) => void;
  [ChatEvent.Typing]: (change: TypingChange) => void;
  [ChatEvent.RoomRemoved]: (removal: RoomRemoved) => void;
}
