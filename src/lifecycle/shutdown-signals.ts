import { constants } from 'node:os';
import type { INestApplication } from '@nestjs/common';
import type { Logger } from 'pino';

export interface ShutdownSignalOptions {
  /** How long the drain lasts at most (SHUTDOWN_DRAIN_MS): said when a signal starts it. */
  readonly drainMs: number;
  /** After this long the process exits 1 whatever is still closing. */
  readonly deadlineMs: number;
  readonly logger: Logger;
  readonly exit?: (code: number) => void;
  /** Where the signals come from (the process; a plain emitter in unit tests). */
  readonly signals?: Pick<NodeJS.EventEmitter, 'on'>;
}

/**
 * SIGTERM/SIGINT run `app.close()` (the ordered sequence in `ShutdownService` and NestJS's
 * own teardown) and then exit 0. A second signal exits at once; a close that hangs is cut
 * at the deadline. NestJS's `enableShutdownHooks` would re-raise the signal instead, so the
 * process would end "killed by SIGTERM" rather than with code 0, and it has no deadline.
 */
export function handleShutdownSignals(app: INestApplication, options: ShutdownSignalOptions): void {
  const {
    drainMs,
    deadlineMs,
    logger,
    exit = (code: number) => process.exit(code),
    signals = process,
  } = options;
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(128 + constants.signals[signal]);
      return;
    }
    closing = true;
    // Said at once: someone pressing Ctrl-C wants to know how long to wait, and the way out.
    logger.info(
      { signal, drainMs, deadlineMs },
      `signal received: draining for up to ${seconds(drainMs)}, then exiting; a second signal (Ctrl-C again) exits at once`,
    );
    const deadline = setTimeout(() => {
      logger.error({ deadlineMs }, 'shutdown deadline reached: exiting with work still open');
      exit(1);
    }, deadlineMs);
    deadline.unref();
    app.close().then(
      () => {
        clearTimeout(deadline);
        logger.info('shutdown complete');
        exit(0);
      },
      (error: unknown) => {
        clearTimeout(deadline);
        logger.error({ err: error }, 'shutdown failed');
        exit(1);
      },
    );
  };
  signals.on('SIGTERM', onSignal);
  signals.on('SIGINT', onSignal);
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}
