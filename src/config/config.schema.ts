import {
  bcryptHash,
  type EnvParser,
  integer,
  oneOf,
  originList,
  redisUrls,
  text,
  transportList,
  url,
} from './env-parsers.js';

interface EnvVar<T, D extends string | undefined> {
  /** Used when the variable is unset or empty; `undefined` means optional with no value. */
  readonly default: D;
  readonly parse: EnvParser<T>;
  /** Never echo the value in an error message. */
  readonly secret?: boolean;
}

const envVar = <T, const D extends string | undefined>(spec: EnvVar<T, D>): EnvVar<T, D> => spec;

/**
 * Every environment variable the app reads, with its default. `.env.example` lists exactly
 * these keys (a test keeps the two in step) and docs/configuration.md describes each.
 */
export const ENV_SCHEMA = {
  NODE_ENV: envVar({ default: 'development', parse: oneOf('development', 'production', 'test') }),
  PORT: envVar({ default: '3000', parse: integer(0, 65535) }),
  HOST: envVar({ default: '0.0.0.0', parse: text() }),
  JWT_SECRET: envVar({ default: undefined, parse: text(32), secret: true }),
  JWT_JWKS_URL: envVar({ default: undefined, parse: url('https:', 'http:') }),
  JWT_ISSUER: envVar({ default: undefined, parse: text() }),
  JWT_AUDIENCE: envVar({ default: undefined, parse: text() }),
  CORS_ORIGINS: envVar({ default: 'http://localhost:3000', parse: originList }),
  REDIS_URL: envVar({ default: undefined, parse: redisUrls }),
  REDIS_ADAPTER: envVar({ default: 'pubsub', parse: oneOf('pubsub', 'sharded', 'streams') }),
  WS_TRANSPORTS: envVar({ default: 'websocket,polling', parse: transportList }),
  WS_MAX_CONNECTIONS: envVar({ default: '10000', parse: integer(1, 1_000_000) }),
  WS_MAX_CONNECTIONS_PER_USER: envVar({ default: '10', parse: integer(1, 10_000) }),
  WS_MAX_PAYLOAD_BYTES: envVar({ default: '65536', parse: integer(1024, 100 * 1024 * 1024) }),
  WS_PING_INTERVAL_MS: envVar({ default: '25000', parse: integer(100, 3_600_000) }),
  WS_PING_TIMEOUT_MS: envVar({ default: '20000', parse: integer(100, 3_600_000) }),
  WS_CONNECT_TIMEOUT_MS: envVar({ default: '10000', parse: integer(100, 600_000) }),
  WS_RATE_LIMIT_PER_S: envVar({ default: '20', parse: integer(1, 1_000_000) }),
  WS_RATE_LIMIT_BURST: envVar({ default: '40', parse: integer(1, 1_000_000) }),
  // Unset: 1000 in development (a restart should not wait out a drain), 30000 otherwise.
  SHUTDOWN_DRAIN_MS: envVar({ default: undefined, parse: integer(0, 600_000) }),
  PRESENCE_TTL_S: envVar({ default: '60', parse: integer(5, 86_400) }),
  ROOM_HISTORY_SIZE: envVar({ default: '100', parse: integer(0, 10_000) }),
  ROOM_HISTORY_TTL_S: envVar({ default: '86400', parse: integer(60, 31_536_000) }),
  INBOX_SIZE: envVar({ default: '200', parse: integer(1, 10_000) }),
  INBOX_TTL_S: envVar({ default: '2592000', parse: integer(60, 31_536_000) }),
  API_KEY: envVar({ default: undefined, parse: text(32), secret: true }),
  ADMIN_UI_USER: envVar({ default: undefined, parse: text() }),
  ADMIN_UI_PASSWORD_HASH: envVar({ default: undefined, parse: bcryptHash, secret: true }),
  ADMIN_UI_READONLY: envVar({ default: 'true', parse: oneOf('true', 'false') }),
  WEBHOOK_URL: envVar({ default: undefined, parse: url('https:', 'http:') }),
  WEBHOOK_SECRET: envVar({ default: undefined, parse: text(16), secret: true }),
  LOG_LEVEL: envVar({
    default: 'info',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  }),
  // Unset: pretty in development, json otherwise.
  LOG_FORMAT: envVar({ default: undefined, parse: oneOf('pretty', 'json') }),
} as const;

export type EnvKey = keyof typeof ENV_SCHEMA;

type ParsedValue<K extends EnvKey> =
  (typeof ENV_SCHEMA)[K]['parse'] extends EnvParser<infer T> ? T : never;

/** The validated environment: optional variables are `undefined` when unset. */
export type ParsedEnv = {
  readonly [K in EnvKey]: (typeof ENV_SCHEMA)[K]['default'] extends string
    ? ParsedValue<K>
    : ParsedValue<K> | undefined;
};
