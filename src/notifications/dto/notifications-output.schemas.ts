/**
 * What `/notifications` sends, as schemas, for the AsyncAPI document (`GET /asyncapi.json`).
 * `NotificationsOutputAgrees` fails to compile when they part from `notifications.events.ts`.
 */
import { z } from 'zod';
import type { Describes, EmittedEvents, Expect } from '../../gateway/contract-metadata.js';
import {
  type InboxItem,
  type Notification,
  NotificationEvent,
  type UnreadCount,
} from '../notifications.events.js';

const NotificationSchema = z.object({
  id: z.string(),
  type: z.string(),
  data: z.unknown(),
  ts: z.int().describe('Server time in ms'),
});
const InboxItemSchema = NotificationSchema.extend({ read: z.boolean() });
const UnreadCountSchema = z.object({
  count: z.int().min(0),
  version: z.int().describe('Keep the count with the highest version'),
});

export const InboxListResultSchema = z.object({
  notifications: z.array(InboxItemSchema).describe('Newest first'),
});
export const InboxReadResultSchema = z.object({ unread: z.int().min(0) });

export const NOTIFICATIONS_EMITS = {
  [NotificationEvent.Notification]: NotificationSchema,
  [NotificationEvent.InboxUnread]: UnreadCountSchema,
} as const satisfies EmittedEvents;

export type NotificationsOutputAgrees = [
  Expect<Describes<typeof NotificationSchema, Notification>>,
  Expect<Describes<typeof InboxItemSchema, InboxItem>>,
  Expect<Describes<typeof UnreadCountSchema, UnreadCount>>,
  Expect<Describes<typeof InboxListResultSchema, { notifications: InboxItem[] }>>,
  Expect<Describes<typeof InboxReadResultSchema, { unread: number }>>,
];
