/**
 * What `/chat` sends, as schemas: ack results and server events, for the AsyncAPI document
 * (`GET /asyncapi.json`). The types in `chat.events.ts` stay the TypeScript contract (the demo
 * client imports them, without zod); `ChatOutputAgrees` fails to compile when the two part.
 */
import { z } from 'zod';
import type { Describes, EmittedEvents, Expect } from '../../gateway/contract-metadata.js';
import {
  ChatEvent,
  type ChatMessage,
  type HistoryResult,
  type JoinResult,
  type PresenceChange,
  type PresentUser,
  type PresenceUpdated,
  type RoomRemoved,
  type SendResult,
  type TypingChange,
} from '../chat.events.js';

const offset = z.int().min(0);
const UserRefSchema = z.object({ id: z.string(), name: z.string() });
const PresenceStateSchema = z.record(z.string(), z.unknown());

export const ChatMessageSchema = z.object({
  id: z.string().describe('A ULID: unique, sorts by time'),
  room: z.string(),
  from: UserRefSchema,
  text: z.string(),
  ts: z.int().describe('Server time in ms'),
  offset: offset.optional().describe('Absent with ROOM_HISTORY_SIZE=0'),
});

export const RoomResultSchema = z.object({ room: z.string() });

export const JoinResultSchema = z.object({
  room: z.string(),
  offset: offset.optional(),
  epoch: z.string().optional(),
  messages: z.array(ChatMessageSchema).readonly().optional().describe('Oldest first'),
  recovered: z.boolean().optional(),
});

export const HistoryResultSchema = z.object({
  room: z.string(),
  epoch: z.string(),
  messages: z.array(ChatMessageSchema).readonly().describe('Oldest first'),
});

export const SendResultSchema = z.object({
  id: z.string(),
  ts: z.int(),
  offset: offset.optional(),
});

const PresentUserSchema = UserRefSchema.extend({ state: PresenceStateSchema.optional() });
export const PresenceListResultSchema = z.object({ users: z.array(PresentUserSchema) });

const PresenceChangeSchema = z.object({ room: z.string(), user: UserRefSchema });
const PresenceUpdatedSchema = PresenceChangeSchema.extend({ state: PresenceStateSchema });
const TypingChangeSchema = PresenceChangeSchema.extend({ typing: z.boolean() });
const RoomRemovedSchema = z.object({ room: z.string(), reason: z.string() });

export const CHAT_EMITS = {
  [ChatEvent.MessageNew]: ChatMessageSchema,
  [ChatEvent.PresenceJoined]: PresenceChangeSchema,
  [ChatEvent.PresenceLeft]: PresenceChangeSchema,
  [ChatEvent.PresenceUpdated]: PresenceUpdatedSchema,
  [ChatEvent.Typing]: TypingChangeSchema,
  [ChatEvent.RoomRemoved]: RoomRemovedSchema,
} as const satisfies EmittedEvents;

export type ChatOutputAgrees = [
  Expect<Describes<typeof ChatMessageSchema, ChatMessage>>,
  Expect<Describes<typeof JoinResultSchema, JoinResult>>,
  Expect<Describes<typeof HistoryResultSchema, HistoryResult>>,
  Expect<Describes<typeof SendResultSchema, SendResult>>,
  Expect<Describes<typeof PresenceListResultSchema, { users: PresentUser[] }>>,
  Expect<Describes<typeof PresenceChangeSchema, PresenceChange>>,
  Expect<Describes<typeof PresenceUpdatedSchema, PresenceUpdated>>,
  Expect<Describes<typeof TypingChangeSchema, TypingChange>>,
  Expect<Describes<typeof RoomRemovedSchema, RoomRemoved>>,
];
