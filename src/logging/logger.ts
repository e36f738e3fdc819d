import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import type { PrettyOptions } from 'pino-pretty';

/**
 * Paths that may hold a token. The app never logs handshake headers or queries itself; this
 * is the net for anything that does (a user's own log line with `req` in it, say).
 */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["sec-websocket-protocol"]',
  'headers.authorization',
  'headers.cookie',
  'headers["sec-websocket-protocol"]',
  'auth',
  '*.auth',
  'token',
  '*.token',
  'access_token',
  '*.access_token',
];

/** Query strings can carry `access_token`: keep the path, drop the rest. */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const queryStart = url.indexOf('?');
  return queryStart < 0 ? url : `${url.slice(0, queryStart)}?[redacted]`;
}

export type LogFormat = 'pretty' | 'json';

/** JSON lines on stdout (or on `destination`), redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      url: redactUrl,
      req: (req: { method?: string; url?: string }) => ({
        method: req.method,
        url: redactUrl(req.url),
      }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

type Pretty = (options: PrettyOptions) => DestinationStream;

export interface AppLoggerOptions {
  readonly level: string;
  readonly format: LogFormat;
  /** Where lines go; stdout unless a test captures them. */
  readonly destination?: DestinationStream;
  /** Loads pino-pretty; replaced in tests to play an install without devDependencies. */
  readonly loadPretty?: () => Promise<Pretty>;
}

/**
 * The app's logger: JSON lines, or one short human line per entry with `format: 'pretty'`.
 * pino-pretty is a devDependency; where it is missing (an image installed with
 * `--omit=dev`) the logger writes JSON and says so once instead of failing to start.
 */
export async function createAppLogger({
  level,
  format,
  destination,
  loadPretty = async () => (await import('pino-pretty')).default,
}: AppLoggerOptions): Promise<Logger> {
  if (format === 'json') return createLogger(level, destination);
  const pretty = await loadPretty().catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  });
  if (!pretty) {
    const logger = createLogger(level, destination);
    logger.warn(
      'LOG_FORMAT=pretty needs pino-pretty (a devDependency), not installed: logging JSON',
    );
    return logger;
  }
  // Synchronous: a line written just before process.exit() (the end of a shutdown) is not
  // lost, and the start banner prints after the "listening" line, not before.
  const stream = pretty({
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    ...(destination ? { destination } : {}),
  });
  return createLogger(level, stream);
}
