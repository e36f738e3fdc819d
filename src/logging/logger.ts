import { pino, type Logger } from 'pino';

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

export function createLogger(level: string): Logger {
  return pino({
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
  });
}
