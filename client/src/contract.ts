/**
 * The server's event contract, re-exported from the files the server itself compiles: one
 * source of truth (see tsconfig.build.json).
 */
export {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatClientToServerEvents,
  type ChatMessage,
  type ChatServerToClientEvents,
  type HistoryPayload,
  type HistoryResult,
  type JoinPayload,
  type JoinResult,
  type PresenceChange,
  type PresenceState,
  type PresenceUpdatePayload,
  type PresenceUpdated,
  type PresentUser,
  type RoomPayload,
  type RoomPosition,
  type RoomRemoved,
  type SendMessagePayload,
  type SendResult,
  type TypingChange,
  type UserRef,
} from '../../src/chat/chat.events.js';
export {
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type InboxItem,
  type InboxListPayload,
  type InboxReadPayload,
  type Notification,
  type NotificationsClientToServerEvents,
  type NotificationsServerToClientEvents,
  type UnreadCount,
} from '../../src/notifications/notifications.events.js';
export { ServerEvent, type DrainingNotice } from '../../src/gateway/server-events.js';
export type { Ack, ErrorCode, Failure, Ok, WireError } from '../../src/gateway/ws-error.js';
export type { ConnectRefusal, ConnectRefusalCode } from '../../src/gateway/connect-refusal.js';
export type { AuthFailureReason } from '../../src/auth/auth-error.js';
