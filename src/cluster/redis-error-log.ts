import type { Logger } from 'pino';

const UNAVAILABLE = new Set([
  'ClientOfflineError',
  'ClientClosedError',
  'SocketClosedUnexpectedlyError',
  'ConnectionTimeoutError',
  'TimeoutError',
  'ReconnectStrategyError',
]);

/**
 * An error that only says Redis cannot be reached right now. node-redis's error classes do
 * not set `name`, so they are known by their class; our own deadlines set `name`.
 */
export function isRedisUnavailable(error: unknown): boolean {
  return (
    error instanceof Error &&
    (UNAVAILABLE.has(error.constructor.name) || UNAVAILABLE.has(error.name))
  );
}

/** At most one line per window per source, with the count of what was left out. */
const WINDOW_MS = 10_000;

/**
 * Logs Redis errors at a sane rate. During an outage every publish and every reconnect
 * attempt fails; one line per failure would bury everything else in the log.
 */
export class RedisErrorLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  report(source: string, error: unknown, message = 'redis error'): void {
    const now = this.now();
    const entry = this.last.get(source);
    if (entry && now - entry.at < WINDOW_MS) {
      entry.suppressed += 1;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(source, { at: now, suppressed: 0 });
    // node-redis's errors keep the name `Error`: their class says what happened.
    const name = error instanceof Error && error.name === 'Error' ? error.constructor.name : '';
    const detail =
      error instanceof Error ? `${name || error.name}: ${error.message}` : String(error);
    this.logger.warn({ source, error: detail, suppressed }, message);
  }
}
