import type { Manager, ManagerOptions, Socket } from 'socket.io-client';
import { connectFailureOf, type ConnectFailure } from './connect-error.js';
import {
  CHAT_NAMESPACE,
  NOTIFICATIONS_NAMESPACE,
  type ChatClientToServerEvents,
  type ChatServerToClientEvents,
  type NotificationsClientToServerEvents,
  type NotificationsServerToClientEvents,
} from './contract.js';
import { createManager } from './reconnection.js';
import { type GetToken, isExpired, RENEWABLE_REASONS, TokenAuth } from './token.js';

/** A `/chat` socket: `emit`, `emitWithAck` and `on` are typed by the server's event maps. */
export type ChatSocket = Socket<ChatServerToClientEvents, ChatClientToServerEvents>;
export type NotificationsSocket = Socket<
  NotificationsServerToClientEvents,
  NotificationsClientToServerEvents
>;

export interface ConnectOptions {
  /**
   * Called before every connection attempt, the first and each reconnection: return the
   * current token, or a fresh one when it is about to expire.
   */
  readonly getToken: GetToken;
  /** Options over `RECONNECTION_DEFAULTS`, for the Manager made here (not for one passed in). */
  readonly connection?: Partial<ManagerOptions>;
  /** How long an ack may take before the request fails (or is sent again, with `retries`). */
  readonly ackTimeoutMs?: number;
  /**
   * Requests go one at a time, each sent again when its ack does not come within
   * `ackTimeoutMs` (this many times) and after a reconnection. Default: 3 for `/chat`, whose
   * sends are idempotent by `clientMsgId`; 0 for `/notifications`.
   */
  readonly retries?: number;
  /** Connect at once (default), or later with `socket.connect()`. */
  readonly autoConnect?: boolean;
  /** A connection attempt failed; `willRetry` says whether socket.io tries again by itself. */
  readonly onConnectFailure?: (failure: ConnectFailure) => void;
  /** `getToken` threw or rejected: the attempt is dropped and the Manager tries again later. */
  readonly onTokenError?: (error: unknown) => void;
}

const ACK_TIMEOUT_MS = 5000;

/**
 * A typed `/chat` socket. `target`: the server's URL (a Manager is made with the reconnection
 * defaults), or a Manager from `createManager` to share one connection between namespaces.
 */
export function connectChat(target: string | Manager, options: ConnectOptions): ChatSocket {
  return connect(target, CHAT_NAMESPACE, { retries: 3, ...options });
}

/** A typed `/notifications` socket; see `connectChat`. */
export function connectNotifications(
  target: string | Manager,
  options: ConnectOptions,
): NotificationsSocket {
  return connect(target, NOTIFICATIONS_NAMESPACE, options);
}

/**
 * Wires the token to the socket: `getToken` before each attempt, and one attempt with a new
 * token when the server turns the token down for a reason a new one cures (a refusal with
 * `token_expired` or `invalid_signature`, or the server letting the socket go at expiry),
 * which socket.io itself never retries. A second refusal in a row is left to the app.
 */
function connect<S extends Socket>(
  target: string | Manager,
  namespace: string,
  options: ConnectOptions,
): S {
  const manager = typeof target === 'string' ? createManager(target, options.connection) : target;
  const token = new TokenAuth(options.getToken, (error) => {
    options.onTokenError?.(error);
    // Without a token the attempt cannot go on: closing the transport makes the Manager back
    // off and try again (calling `getToken` again), instead of waiting for the server's
    // connect timeout.
    manager.engine?.close();
  });
  const socket = manager.socket(namespace, {
    auth: token.auth,
    ackTimeout: options.ackTimeoutMs ?? ACK_TIMEOUT_MS,
    retries: options.retries ?? 0,
  }) as S;
  let renewed = false;
  const renew = (): void => {
    if (renewed) return;
    renewed = true;
    socket.connect();
  };
  socket.on('connect', () => {
    renewed = false;
  });
  socket.on('connect_error', (error) => {
    const failure = connectFailureOf(error, socket.active);
    if (failure.code === 'UNAUTHORIZED' && RENEWABLE_REASONS.has(failure.reason)) {
      if (!renewed) return renew();
    }
    options.onConnectFailure?.(failure);
  });
  socket.on('disconnect', (reason) => {
    const sent = token.sent;
    if (reason === 'io server disconnect' && sent !== undefined && isExpired(sent)) renew();
  });
  if (options.autoConnect ?? true) socket.connect();
  return socket;
}
