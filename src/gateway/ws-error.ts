/** The closed set of error codes a client can receive in an ack or an `exception` event. */
export const ERROR_CODES = [
  'VALIDATION',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_IN_ROOM',
  'RATE_LIMITED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface WireError {
  readonly code: ErrorCode;
  readonly message: string;
}

export type Ok<T extends object = object> = { readonly ok: true } & T;
export type Failure = { readonly ok: false; readonly error: WireError };
/** Every ack is this discriminated union. */
export type Ack<T extends object = object> = Ok<T> | Failure;
export type AckCallback<T extends object = object> = (response: Ack<T>) => void;

/** The event on which failures of events sent without an ack callback are reported. */
export const EXCEPTION_EVENT = 'exception';

interface FailureTarget {
  emit(event: typeof EXCEPTION_EVENT, failure: Failure): unknown;
}

/** Sends a failure the one way the contract allows: through the ack, else on `exception`. */
export function deliverFailure(socket: FailureTarget, ack: unknown, failure: Failure): void {
  if (typeof ack === 'function') (ack as (response: Failure) => void)(failure);
  else socket.emit(EXCEPTION_EVENT, failure);
}

/** A failure meant for the client: its code and message go on the wire as they are. */
export class WsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'WsError';
  }
}

/** Maps anything thrown to the wire shape; unknown errors become a generic `INTERNAL`. */
export function toFailure(error: unknown): Failure {
  if (error instanceof WsError)
    return { ok: false, error: { code: error.code, message: error.message } };
  return { ok: false, error: { code: 'INTERNAL', message: 'Internal error' } };
}
