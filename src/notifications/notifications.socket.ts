import type { AppNamespace, AppSocket } from '../gateway/socket-types.js';
import type {
  NotificationsClientToServerEvents,
  NotificationsServerToClientEvents,
} from './notifications.events.js';

/** The server's side of `/notifications`, kept apart from the contract that clients import. */
export type NotificationsSocket = AppSocket<
  NotificationsClientToServerEvents,
  NotificationsServerToClientEvents
>;
export type NotificationsNamespace = AppNamespace<
  NotificationsClientToServerEvents,
  NotificationsServerToClientEvents
>;
