import type { ConnectRefusal } from './contract.js';

/**
 * Why a connection attempt failed, from its `connect_error`:
 * - a refusal by the server's namespace middleware (`code` from the contract); socket.io does
 *   not retry after one, and `willRetry` is false;
 * - `TRANSPORT`: the server could not be reached or answered the HTTP handshake with an error
 *   (401 for a bad token in a header, 503 while full or draining); the Manager retries.
 */
export type ConnectFailure =
  | (ConnectRefusal & { readonly willRetry: false; readonly message: string })
  | {
      readonly code: 'TRANSPORT';
      readonly reason: string;
      readonly willRetry: true;
      readonly message: string;
    }
  | {
      readonly code: 'UNKNOWN';
      readonly reason: string;
      readonly willRetry: boolean;
      readonly message: string;
    };

const REFUSAL_CODES = new Set<string>([
  'UNAUTHORIZED',
  'TOO_MANY_CONNECTIONS',
  'INVALID_NAMESPACE',
]);

/**
 * Reads a `connect_error`. `active`: the socket's `active` flag when the error came (true
 * while socket.io keeps retrying).
 */
export function connectFailureOf(error: unknown, active: boolean): ConnectFailure {
  const message = error instanceof Error ? error.message : String(error);
  const data = dataOf(error);
  if (typeof data.code === 'string' && REFUSAL_CODES.has(data.code) && !active)
    return {
      code: data.code,
      reason: typeof data.reason === 'string' ? data.reason : message,
      willRetry: false,
      message,
    } as ConnectRefusal & { willRetry: false; message: string };
  if (active) return { code: 'TRANSPORT', reason: message, willRetry: true, message };
  return {
    code: 'UNKNOWN',
    reason: typeof data.reason === 'string' ? data.reason : message,
    willRetry: false,
    message,
  };
}

function dataOf(error: unknown): { code?: unknown; reason?: unknown } {
  if (typeof error !== 'object' || error === null) return {};
  const { data } = error as { data?: unknown };
  return typeof data === 'object' && data !== null ? data : {};
}
