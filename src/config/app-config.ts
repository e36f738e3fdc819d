import { randomBytes } from 'node:crypto';
import { ENV_SCHEMA, type EnvKey, type ParsedEnv } from './config.schema.js';
import { hideCredentials } from '../common/credentials.js';

export type RedisAdapterKind = 'pubsub' | 'sharded' | 'streams';

export interface RedisConfig {
  /** One URL: a standalone server. Several: the seed nodes of a Redis Cluster. */
  readonly urls: readonly string[];
  readonly cluster: boolean;
  readonly adapter: RedisAdapterKind;
}

export interface AuthConfig {
  /** HS256 secret; set when `JWT_SECRET` is given, or the development secret when no key is. */
  readonly secret: string | undefined;
  /** True when `secret` is the development one because no key was configured (never in production). */
  readonly secretIsGenerated: boolean;
  readonly jwksUrl: string | undefined;
  readonly issuer: string | undefined;
  readonly audience: string | undefined;
  /**
   * Whether `POST /dev/token` mints tokens: only with the generated development secret (or
   * under NODE_ENV=test). With a real secret it would let anyone sign in as anyone.
   */
  readonly devTokenRoute: boolean;
}

/** The typed, frozen configuration tree. Read from the environment once, at start. */
export interface AppConfig {
  readonly env: 'development' | 'production' | 'test';
  readonly http: {
    readonly port: number;
    readonly host: string;
    readonly corsOrigins: readonly string[];
  };
  readonly auth: AuthConfig;
  readonly redis: RedisConfig | undefined;
  readonly ws: {
    readonly transports: readonly ('websocket' | 'polling')[];
    readonly maxConnections: number;
    readonly maxConnectionsPerUser: number;
    readonly maxPayloadBytes: number;
    readonly pingIntervalMs: number;
    readonly pingTimeoutMs: number;
    /** A connection that joins no namespace (so presents no token) is closed after this. */
    readonly connectTimeoutMs: number;
    readonly rateLimit: { readonly perSecond: number; readonly burst: number };
  };
  readonly shutdown: { readonly drainMs: number };
  readonly presence: { readonly ttlS: number };
  /** What each room keeps: its last `size` messages (0: none, and no offsets) for `ttlS`. */
  readonly history: { readonly size: number; readonly ttlS: number };
  /** Notifications kept per user, and for how long at most. */
  readonly inbox: { readonly size: number; readonly ttlS: number };
  /** The service API's bearer key; unset: the API is off (its routes do not exist). */
  readonly apiKey: string | undefined;
  /** The Socket.IO admin UI at /admin; undefined: off, and its instrumentation not loaded. */
  readonly adminUi:
    | { readonly user: string; readonly passwordHash: string; readonly readonly: boolean }
    | undefined;
  /** Where room and user lifecycle events are POSTed, and the key that signs them. */
  readonly webhook: { readonly url: string; readonly secret: string } | undefined;
  readonly log: { readonly level: string; readonly format: 'pretty' | 'json' };
}

export interface ConfigIssue {
  readonly variable: EnvKey;
  readonly message: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: AppConfig }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

export interface LoadConfigOptions {
  /**
   * Gives the development secret when no key is configured and NODE_ENV=development. The
   * server passes `keptDevSecret` (a file in the working folder, so tokens outlive a
   * restart); unset, and under NODE_ENV=test, a random secret for this process is used.
   */
  readonly devSecret?: () => string;
}

/** Validates every variable and reports all problems at once, never echoing a secret. */
export function loadConfig(
  env: NodeJS.ProcessEnv,
  { devSecret = randomSecret }: LoadConfigOptions = {},
): ConfigResult {
  const issues: ConfigIssue[] = [];
  const parsed: Record<string, unknown> = {};
  for (const key of Object.keys(ENV_SCHEMA) as EnvKey[]) {
    const spec = ENV_SCHEMA[key];
    const given = env[key];
    const raw = given === undefined || given === '' ? spec.default : given;
    if (raw === undefined) {
      parsed[key] = undefined;
      continue;
    }
    const result = spec.parse(raw);
    if (result.ok) {
      parsed[key] = result.value;
    } else {
      const shown =
        'secret' in spec && spec.secret
          ? `a value of ${raw.length} characters`
          : `"${hideCredentials(raw)}"`;
      issues.push({ variable: key, message: `got ${shown}; expected ${result.expected}` });
    }
  }
  const keyGiven = Boolean(env.JWT_SECRET) || Boolean(env.JWT_JWKS_URL);
  if (!keyGiven && parsed.NODE_ENV === 'production') {
    issues.push({
      variable: 'JWT_SECRET',
      message:
        'is required when NODE_ENV=production unless JWT_JWKS_URL is set; expected a secret of at least 32 characters',
    });
  } else if (!keyGiven && parsed.REDIS_URL !== undefined) {
    // Each instance would sign with a development secret of its own: a token from one
    // would be refused by the others.
    issues.push({
      variable: 'JWT_SECRET',
      message:
        'is required with REDIS_URL unless JWT_JWKS_URL is set: every instance must verify the same tokens; expected the same secret of at least 32 characters on every instance (e.g. openssl rand -base64 32)',
    });
  }
  for (const [a, b] of [
    ['ADMIN_UI_USER', 'ADMIN_UI_PASSWORD_HASH'],
    ['WEBHOOK_URL', 'WEBHOOK_SECRET'],
  ] as const) {
    // One without the other would quietly leave the feature off.
    const [hasA, hasB] = [Boolean(env[a]), Boolean(env[b])];
    if (hasA !== hasB)
      issues.push({
        variable: hasA ? b : a,
        message: `is required with ${hasA ? a : b}; set both, or neither to leave the feature off`,
      });
  }
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, config: buildConfig(parsed as ParsedEnv, devSecret) };
}

function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Unset in development, where a restart should not wait out a drain or print JSON. */
const DEV_DEFAULTS = { drainMs: 1000, logFormat: 'pretty' } as const;
const DEFAULTS = { drainMs: 30_000, logFormat: 'json' } as const;

function buildConfig(env: ParsedEnv, devSecret: () => string): AppConfig {
  const hasKey = env.JWT_SECRET !== undefined || env.JWT_JWKS_URL !== undefined;
  const development = env.NODE_ENV === 'development';
  const defaults = development ? DEV_DEFAULTS : DEFAULTS;
  const config: AppConfig = {
    env: env.NODE_ENV,
    http: { port: env.PORT, host: env.HOST, corsOrigins: env.CORS_ORIGINS },
    auth: {
      secret: hasKey ? env.JWT_SECRET : development ? devSecret() : randomSecret(),
      secretIsGenerated: !hasKey,
      jwksUrl: env.JWT_JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      devTokenRoute: !hasKey || env.NODE_ENV === 'test',
    },
    redis: env.REDIS_URL
      ? { urls: env.REDIS_URL, cluster: env.REDIS_URL.length > 1, adapter: env.REDIS_ADAPTER }
      : undefined,
    ws: {
      transports: env.WS_TRANSPORTS,
      maxConnections: env.WS_MAX_CONNECTIONS,
      maxConnectionsPerUser: env.WS_MAX_CONNECTIONS_PER_USER,
      maxPayloadBytes: env.WS_MAX_PAYLOAD_BYTES,
      pingIntervalMs: env.WS_PING_INTERVAL_MS,
      pingTimeoutMs: env.WS_PING_TIMEOUT_MS,
      connectTimeoutMs: env.WS_CONNECT_TIMEOUT_MS,
      rateLimit: { perSecond: env.WS_RATE_LIMIT_PER_S, burst: env.WS_RATE_LIMIT_BURST },
    },
    shutdown: { drainMs: env.SHUTDOWN_DRAIN_MS ?? defaults.drainMs },
    presence: { ttlS: env.PRESENCE_TTL_S },
    history: { size: env.ROOM_HISTORY_SIZE, ttlS: env.ROOM_HISTORY_TTL_S },
    inbox: { size: env.INBOX_SIZE, ttlS: env.INBOX_TTL_S },
    apiKey: env.API_KEY,
    adminUi:
      env.ADMIN_UI_USER && env.ADMIN_UI_PASSWORD_HASH
        ? {
            user: env.ADMIN_UI_USER,
            passwordHash: env.ADMIN_UI_PASSWORD_HASH,
            readonly: env.ADMIN_UI_READONLY === 'true',
          }
        : undefined,
    webhook:
      env.WEBHOOK_URL && env.WEBHOOK_SECRET
        ? { url: env.WEBHOOK_URL, secret: env.WEBHOOK_SECRET }
        : undefined,
    log: { level: env.LOG_LEVEL, format: env.LOG_FORMAT ?? defaults.logFormat },
  };
  return deepFreeze(config);
}

export function formatConfigIssues(
  issues: readonly ConfigIssue[],
  heading = 'Invalid configuration, the server was not started:',
): string {
  const lines = issues.map((issue) => `  ${issue.variable}: ${issue.message}`);
  return `${heading}\n${lines.join('\n')}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
