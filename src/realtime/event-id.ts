import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/**
 * A ULID: unique, and sortable by time as text. Monotonic within a millisecond, so ids of
 * messages sent in the same millisecond on this instance still sort in sending order.
 */
export function eventId(ts: number): string {
  return nextUlid(ts);
}
