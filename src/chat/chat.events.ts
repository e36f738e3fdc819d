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
  MessageSend: 'message:send',
  PresenceList: 'presence:list',
  MessageNew: 'message:new',
  PresenceJoined: 'presence:joined',
  PresenceLeft: 'presence:left',
  ServerDraining: ServerEvent.Draining,
  Exception: ServerEvent.Exception,
} as const;

export interface UserRef {
  readonly id: string;
  readonly name: string;
}

export interface RoomPayload {
  readonly room: string;
}

export interface SendMessagePayload {
  readonly room: string;
  readonly text: string;
}

export interface ChatMessage {
  readonly id: string;
  readonly room: string;
  readonly from: UserRef;
  readonly text: string;
  readonly ts: number;
}

export interface PresenceChange {
  readonly room: string;
  readonly user: UserRef;
}

export type RoomAck = Ack<{ room: string }>;
export type SendAck = Ack<{ id: string; ts: number }>;
export type PresenceListAck = Ack<{ users: UserRef[] }>;

export interface ChatClientToServerEvents {
  [ChatEvent.RoomJoin]: (payload: RoomPayload, ack: AckCallback<{ room: string }>) => void;
  [ChatEvent.RoomLeave]: (payload: RoomPayload, ack: AckCallback<{ room: string }>) => void;
  [ChatEvent.MessageSend]: (
    payload: SendMessagePayload,
    ack: AckCallback<{ id: string; ts: number }>,
  ) => void;
  [ChatEvent.PresenceList]: (payload: RoomPayload, ack: AckCallback<{ users: UserRef[] }>) => void;
}

export interface ChatServerToClientEvents extends ServerEvents {
  [ChatEvent.MessageNew]: (message: ChatMessage) => void;
  [ChatEvent.PresenceJoined]: (change: PresenceChange) => void;
  [ChatEvent.PresenceLeft]: (change: PresenceChange) => void;
}
