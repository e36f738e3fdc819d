export * from './contract.js';
export {
  ChatRooms,
  type ChatRoomsListener,
  type RequestFailure,
  type Answer,
} from './chat-rooms.js';
export { newClientMsgId } from './client-msg-id.js';
export {
  connectChat,
  connectNotifications,
  type ChatSocket,
  type ConnectOptions,
  type NotificationsSocket,
} from './connect.js';
export { connectFailureOf, type ConnectFailure } from './connect-error.js';
export { createManager, FAST_RECONNECTION, RECONNECTION_DEFAULTS } from './reconnection.js';
export { FIRST_PAGE, RoomResume } from './room-resume.js';
export { expiryOf, isExpired, RENEWABLE_REASONS, TokenAuth, type GetToken } from './token.js';
