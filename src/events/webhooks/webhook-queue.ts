import { setTimeout as sleep } from 'node:timers/promises';
import type { LifecyclePayload } from '../lifecycle-events.js';

/**
 * Lifecycle events on their way to `WEBHOOK_URL`. `enqueue` resolves once the event is
 * accepted: from then on it is delivered, in a batch, whatever happens to this instance (with
 * Redis) or to this process (without).
 */
export interface WebhookQueue {
  enqueue(event: LifecyclePayload): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export const WEBHOOK_QUEUE = Symbol('WEBHOOK_QUEUE');

/** At most this many events in one POST. */
export const BATCH_SIZE = 100;
/** A batch waits at most this long for more events after its first. */
export const BATCH_WINDOW_MS = 250;
/** Retries back off from 250 ms, doubling, to this. */
export const MAX_BACKOFF_MS = 10_000;

export const backoff = (attempt: number): number =>
  Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(attempt, 10));

/** Waits `ms`, or less when `signal` aborts (the queue is closing); never rejects. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => undefined);
}
