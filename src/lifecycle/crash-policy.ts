import type { Logger } from 'pino';
import { isRedisUnavailable, RedisErrorLog } from '../cluster/redis-error-log.js';

export interface CrashPolicy {
  onUnhandledRejection(reason: unknown): void;
  onUncaughtException(error: unknown): void;
}

/**
 * What an error nobody caught does to the process. A rejection that only says Redis is
 * unreachable (a library's stray promise during an outage) is logged at a sane rate and the
 * process goes on: the outage is handled elsewhere. Anything else is a bug: it is logged
 * with its stack and the process exits 1, so the orchestrator restarts it in a known state
 * rather than letting it run on in an unknown one.
 */
export function crashPolicy(logger: Logger, exit: (code: number) => void): CrashPolicy {
  const redisErrors = new RedisErrorLog(logger);
  return {
    onUnhandledRejection(reason) {
      if (isRedisUnavailable(reason)) {
        redisErrors.report('unhandled-rejection', reason);
        return;
      }
      logger.fatal({ err: reason }, 'unhandled promise rejection: exiting');
      exit(1);
    },
    onUncaughtException(error) {
      logger.fatal({ err: error }, 'uncaught exception: exiting');
      exit(1);
    },
  };
}

export function installCrashPolicy(logger: Logger): void {
  const policy = crashPolicy(logger, (code) => process.exit(code));
  process.on('unhandledRejection', (reason) => policy.onUnhandledRejection(reason));
  process.on('uncaughtException', (error) => policy.onUncaughtException(error));
}
