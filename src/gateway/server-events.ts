import { EXCEPTION_EVENT, type Failure } from './ws-error.js';

/** Events the server sends on every namespace, whatever its gateway. */
export const ServerEvent = {
  /** This instance is shutting down and lets the socket go in `reconnectInMs`. */
  Draining: 'server:draining',
  /** The failure of an event sent without an ack callback. */
  Exception: EXCEPTION_EVENT,
} as const;

export interface DrainingNotice {
  readonly reconnectInMs: number;
}

/** Part of every namespace's server-to-client event map. */
export interface ServerEvents {
  [ServerEvent.Draining]: (notice: DrainingNotice) => void;
  [ServerEvent.Exception]: (failure: Failure) => void;
}
