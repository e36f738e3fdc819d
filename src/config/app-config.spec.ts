import { readFileSync } from 'node:fs';
import { jest } from '@jest/globals';
import { type AppConfig, type ConfigIssue, formatConfigIssues, loadConfig } from './app-config.js';
import { ENV_SCHEMA, type EnvKey } from './config.schema.js';

const SECRET = 'a-test-secret-that-is-long-enough-0123456789';
const JWKS_URL = 'https://idp.example.com/.well-known/jwks.json';

function configOf(env: NodeJS.ProcessEnv): AppConfig {
  const result = loadConfig(env);
  if (!result.ok) throw new Error(formatConfigIssues(result.issues));
  return result.config;
}

function issuesOf(env: NodeJS.ProcessEnv): readonly ConfigIssue[] {
  const result = loadConfig(env);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.issues;
}

function isDeeplyFrozen(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeeplyFrozen);
}

describe('loadConfig', () => {
  it('an empty environment gives the development defaults', () => {
    expect(configOf({})).toEqual({
      env: 'development',
      http: { port: 3000, host: '0.0.0.0', corsOrigins: ['http://localhost:3000'] },
      auth: {
        secret: expect.any(String),
        secretIsGenerated: true,
        jwksUrl: undefined,
        issuer: undefined,
        audience: undefined,
        devTokenRoute: true,
      },
      redis: undefined,
      ws: {
        transports: ['websocket', 'polling'],
        maxConnections: 10_000,
        maxConnectionsPerUser: 10,
        maxPayloadBytes: 65_536,
        pingIntervalMs: 25_000,
        pingTimeoutMs: 20_000,
        connectTimeoutMs: 10_000,
        rateLimit: { perSecond: 20, burst: 40 },
      },
      shutdown: { drainMs: 1000 },
      presence: { ttlS: 60 },
      history: { size: 100, ttlS: 86_400 },
      inbox: { size: 200, ttlS: 2_592_000 },
      apiKey: undefined,
      adminUi: undefined,
      webhook: undefined,
      log: { level: 'info', format: 'pretty' },
    });
  });

  it('treats an empty variable as unset', () => {
    const config = configOf({ PORT: '', LOG_LEVEL: '', REDIS_URL: '' });
    expect(config.http.port).toBe(3000);
    expect(config.log.level).toBe('info');
    expect(config.redis).toBeUndefined();
  });

  it('generates a random dev secret of at least 32 characters when no key is configured', () => {
    const first = configOf({}).auth;
    const second = configOf({}).auth;
    expect(first.secretIsGenerated).toBe(true);
    expect(first.secret?.length).toBeGreaterThanOrEqual(32);
    expect(first.secret).not.toBe(second.secret);
  });

  describe('the development secret', () => {
    const kept = 'a-kept-development-secret-0123456789abcdef';

    it('comes from the given source in development, when no key is configured', () => {
      const devSecret = jest.fn(() => kept);
      const { auth } = loadConfigOk({}, devSecret);
      expect(auth).toMatchObject({ secret: kept, secretIsGenerated: true, devTokenRoute: true });
      expect(devSecret).toHaveBeenCalledTimes(1);
    });

    it('is never asked for with a key, under NODE_ENV=test, or in production', () => {
      const devSecret = jest.fn(() => kept);
      expect(loadConfigOk({ JWT_SECRET: SECRET }, devSecret).auth.secret).toBe(SECRET);
      expect(loadConfigOk({ JWT_JWKS_URL: JWKS_URL }, devSecret).auth.secret).toBeUndefined();
      expect(loadConfigOk({ NODE_ENV: 'test' }, devSecret).auth.secret).not.toBe(kept);
      expect(loadConfig({ NODE_ENV: 'production' }, { devSecret }).ok).toBe(false);
      expect(devSecret).not.toHaveBeenCalled();
    });

    it('is not asked for when the configuration is refused anyway', () => {
      const devSecret = jest.fn(() => kept);
      expect(loadConfig({ PORT: 'abc' }, { devSecret }).ok).toBe(false);
      expect(devSecret).not.toHaveBeenCalled();
    });

    function loadConfigOk(env: NodeJS.ProcessEnv, devSecret: () => string): AppConfig {
      const result = loadConfig(env, { devSecret });
      if (!result.ok) throw new Error(formatConfigIssues(result.issues));
      return result.config;
    }
  });

  describe('variables that go in pairs', () => {
    it('refuses one without the other, naming the missing one', () => {
      expect(issuesOf({ ADMIN_UI_USER: 'ops' }).map((i) => i.variable)).toEqual([
        'ADMIN_UI_PASSWORD_HASH',
      ]);
      expect(issuesOf({ WEBHOOK_SECRET: 's'.repeat(16) }).map((i) => i.variable)).toEqual([
        'WEBHOOK_URL',
      ]);
    });

    it('refuses a password that is not a bcrypt hash, without echoing it', () => {
      const [issue] = issuesOf({ ADMIN_UI_USER: 'ops', ADMIN_UI_PASSWORD_HASH: 'hunter2' });
      expect(issue.variable).toBe('ADMIN_UI_PASSWORD_HASH');
      expect(issue.message).not.toContain('hunter2');
    });
  });

  describe('REDIS_URL without a key', () => {
    it('is refused naming JWT_SECRET: each instance would make up a secret of its own', () => {
      const issues = issuesOf({ REDIS_URL: 'redis://localhost:6379' });
      expect(issues).toHaveLength(1);
      expect(issues[0].variable).toBe('JWT_SECRET');
      expect(issues[0].message).toMatch(/required with REDIS_URL/);
      expect(issues[0].message).toContain('the same secret of at least 32 characters');
    });

    it('is accepted with JWT_SECRET or with JWT_JWKS_URL', () => {
      const redis = { REDIS_URL: 'redis://localhost:6379' };
      expect(loadConfig({ ...redis, JWT_SECRET: SECRET }).ok).toBe(true);
      expect(loadConfig({ ...redis, JWT_JWKS_URL: JWKS_URL }).ok).toBe(true);
    });

    it('in production gets the one production message, not two', () => {
      const issues = issuesOf({ NODE_ENV: 'production', REDIS_URL: 'redis://localhost:6379' });
      expect(issues.map((issue) => issue.message)).toEqual([
        expect.stringContaining('NODE_ENV=production'),
      ]);
    });
  });

  describe('defaults that depend on NODE_ENV', () => {
    it('development drains for 1 s and logs pretty lines; production and test 30 s and JSON', () => {
      expect(configOf({}).shutdown.drainMs).toBe(1000);
      expect(configOf({}).log.format).toBe('pretty');
      for (const NODE_ENV of ['production', 'test']) {
        const config = configOf({ NODE_ENV, JWT_SECRET: SECRET });
        expect({ NODE_ENV, drainMs: config.shutdown.drainMs, format: config.log.format }).toEqual({
          NODE_ENV,
          drainMs: 30_000,
          format: 'json',
        });
      }
    });

    it('an explicit SHUTDOWN_DRAIN_MS or LOG_FORMAT wins in every environment', () => {
      expect(configOf({ SHUTDOWN_DRAIN_MS: '30000', LOG_FORMAT: 'json' })).toMatchObject({
        shutdown: { drainMs: 30_000 },
        log: { format: 'json' },
      });
      expect(
        configOf({
          NODE_ENV: 'production',
          JWT_SECRET: SECRET,
          SHUTDOWN_DRAIN_MS: '500',
          LOG_FORMAT: 'pretty',
        }),
      ).toMatchObject({ shutdown: { drainMs: 500 }, log: { format: 'pretty' } });
    });
  });

  it('opens the dev token route only with the generated secret, or under NODE_ENV=test', () => {
    expect(configOf({}).auth.devTokenRoute).toBe(true);
    expect(configOf({ JWT_SECRET: SECRET }).auth.devTokenRoute).toBe(false);
    expect(configOf({ NODE_ENV: 'test', JWT_SECRET: SECRET }).auth.devTokenRoute).toBe(true);
    expect(configOf({ NODE_ENV: 'production', JWT_SECRET: SECRET }).auth.devTokenRoute).toBe(false);
  });

  it('never echoes the credentials of a bad URL', () => {
    const [issue] = issuesOf({ REDIS_URL: 'http://user:s3cret@cache.example.com:6379' });
    expect(issue.message).toContain('"http://***@cache.example.com:6379"');
    expect(issue.message).not.toContain('s3cret');
  });

  it('uses JWT_SECRET as given and does not call it generated', () => {
    expect(configOf({ JWT_SECRET: SECRET }).auth).toMatchObject({
      secret: SECRET,
      secretIsGenerated: false,
    });
  });

  it('reads every variable into the typed tree', () => {
    const config = configOf({
      NODE_ENV: 'test',
      PORT: '8080',
      HOST: '127.0.0.1',
      JWT_SECRET: SECRET,
      JWT_JWKS_URL: JWKS_URL,
      JWT_ISSUER: 'https://idp.example.com/',
      JWT_AUDIENCE: 'chat',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:5173',
      REDIS_URL: 'rediss://cache.example.com:6380',
      REDIS_ADAPTER: 'streams',
      WS_TRANSPORTS: 'websocket',
      WS_MAX_CONNECTIONS: '500',
      WS_MAX_CONNECTIONS_PER_USER: '3',
      WS_MAX_PAYLOAD_BYTES: '2048',
      WS_PING_INTERVAL_MS: '1000',
      WS_PING_TIMEOUT_MS: '900',
      WS_CONNECT_TIMEOUT_MS: '2500',
      WS_RATE_LIMIT_PER_S: '5',
      WS_RATE_LIMIT_BURST: '7',
      SHUTDOWN_DRAIN_MS: '0',
      PRESENCE_TTL_S: '15',
      ROOM_HISTORY_SIZE: '20',
      ROOM_HISTORY_TTL_S: '120',
      INBOX_SIZE: '5',
      INBOX_TTL_S: '600',
      API_KEY: 'k'.repeat(32),
      ADMIN_UI_USER: 'ops',
      ADMIN_UI_PASSWORD_HASH: `$2b$10$${'a'.repeat(53)}`,
      ADMIN_UI_READONLY: 'false',
      WEBHOOK_URL: 'https://hooks.example.com/realtime',
      WEBHOOK_SECRET: 's'.repeat(16),
      LOG_LEVEL: 'debug',
      LOG_FORMAT: 'pretty',
    });
    expect(config).toEqual({
      env: 'test',
      http: {
        port: 8080,
        host: '127.0.0.1',
        corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      },
      auth: {
        secret: SECRET,
        secretIsGenerated: false,
        jwksUrl: JWKS_URL,
        issuer: 'https://idp.example.com/',
        audience: 'chat',
        devTokenRoute: true,
      },
      redis: { urls: ['rediss://cache.example.com:6380'], cluster: false, adapter: 'streams' },
      ws: {
        transports: ['websocket'],
        maxConnections: 500,
        maxConnectionsPerUser: 3,
        maxPayloadBytes: 2048,
        pingIntervalMs: 1000,
        pingTimeoutMs: 900,
        connectTimeoutMs: 2500,
        rateLimit: { perSecond: 5, burst: 7 },
      },
      shutdown: { drainMs: 0 },
      presence: { ttlS: 15 },
      history: { size: 20, ttlS: 120 },
      inbox: { size: 5, ttlS: 600 },
      apiKey: 'k'.repeat(32),
      adminUi: { user: 'ops', passwordHash: `$2b$10$${'a'.repeat(53)}`, readonly: false },
      webhook: { url: 'https://hooks.example.com/realtime', secret: 's'.repeat(16) },
      log: { level: 'debug', format: 'pretty' },
    });
  });

  it('joins the cluster with the pubsub adapter by default when REDIS_URL is set', () => {
    expect(configOf({ REDIS_URL: 'redis://localhost:6379', JWT_SECRET: SECRET }).redis).toEqual({
      urls: ['redis://localhost:6379'],
      cluster: false,
      adapter: 'pubsub',
    });
  });

  it('stores origins as browsers send them, without a trailing slash', () => {
    expect(
      configOf({ CORS_ORIGINS: 'https://app.example.com/, http://localhost:5173' }).http
        .corsOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it('reads several REDIS_URL entries as the seed nodes of a Redis Cluster', () => {
    expect(
      configOf({
        REDIS_URL: 'redis://10.0.0.1:7000, redis://10.0.0.2:7000',
        REDIS_ADAPTER: 'sharded',
        JWT_SECRET: SECRET,
      }).redis,
    ).toEqual({
      urls: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'],
      cluster: true,
      adapter: 'sharded',
    });
  });

  it('returns a deeply frozen configuration', () => {
    const config = configOf({ REDIS_URL: 'redis://localhost:6379', JWT_SECRET: SECRET });
    expect(isDeeplyFrozen(config)).toBe(true);
    expect(() => {
      (config.http as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.ws.transports as string[]).push('polling');
    }).toThrow(TypeError);
  });

  describe('in production', () => {
    it('refuses to start without JWT_SECRET or JWT_JWKS_URL, naming JWT_SECRET', () => {
      const issues = issuesOf({ NODE_ENV: 'production' });
      expect(issues).toHaveLength(1);
      expect(issues[0].variable).toBe('JWT_SECRET');
      expect(issues[0].message).toContain('JWT_JWKS_URL');
      expect(issues[0].message).toContain('at least 32 characters');
    });

    it('reports the missing key together with any other wrong value', () => {
      const issues = issuesOf({ NODE_ENV: 'production', PORT: 'abc' });
      expect(issues.map((issue) => issue.variable)).toEqual(['PORT', 'JWT_SECRET']);
    });

    it('starts with only a JWKS URL, and no secret at all', () => {
      expect(configOf({ NODE_ENV: 'production', JWT_JWKS_URL: JWKS_URL }).auth).toEqual({
        secret: undefined,
        secretIsGenerated: false,
        jwksUrl: JWKS_URL,
        issuer: undefined,
        audience: undefined,
        devTokenRoute: false,
      });
    });

    it('starts with only a JWT_SECRET', () => {
      expect(configOf({ NODE_ENV: 'production', JWT_SECRET: SECRET }).auth).toMatchObject({
        secret: SECRET,
        secretIsGenerated: false,
      });
    });
  });

  describe('a wrong value is refused, naming the variable, the value and what is expected', () => {
    it.each<[EnvKey, string, string]>([
      ['PORT', 'abc', 'an integer from 0 to 65535'],
      ['PORT', '70000', 'an integer from 0 to 65535'],
      ['PORT', '3000.5', 'an integer from 0 to 65535'],
      ['NODE_ENV', 'staging', 'one of development, production, test'],
      ['WS_TRANSPORTS', 'carrier-pigeon', '"websocket,polling" or "websocket"'],
      ['WS_TRANSPORTS', 'websocket,websocket', '"websocket,polling" or "websocket"'],
      ['CORS_ORIGINS', 'not a url', 'origins like https://app.example.com'],
      ['CORS_ORIGINS', 'https://app.example.com/chat', 'no path'],
      ['CORS_ORIGINS', 'ftp://files.example.com', 'origins like https://app.example.com'],
      ['JWT_JWKS_URL', 'idp.example.com/jwks', 'a URL starting with https:// or http://'],
      ['REDIS_URL', 'http://x', 'redis://host:port, or comma-separated redis:// URLs'],
      [
        'REDIS_URL',
        'redis://a:1,http://b:2',
        'comma-separated redis:// URLs of Redis Cluster nodes',
      ],
      ['REDIS_ADAPTER', 'kafka', 'one of pubsub, sharded, streams'],
      ['WS_MAX_PAYLOAD_BYTES', '10', 'an integer from 1024 to'],
      ['PRESENCE_TTL_S', '1', 'an integer from 5 to 86400'],
      ['LOG_LEVEL', 'loud', 'one of fatal, error, warn, info, debug, trace, silent'],
      ['LOG_FORMAT', 'xml', 'one of pretty, json'],
    ])('%s=%s', (variable, value, expected) => {
      const issues = issuesOf({ [variable]: value });
      expect(issues).toHaveLength(1);
      expect(issues[0].variable).toBe(variable);
      expect(issues[0].message).toMatch(new RegExp(`^got ".*"; expected `));
      expect(issues[0].message).toContain(`got "${value}"`);
      expect(issues[0].message).toContain(expected);
    });

    it('names the bad origin in a list of several', () => {
      const [issue] = issuesOf({
        CORS_ORIGINS: 'https://ok.example.com,https://bad.example.com/x',
      });
      expect(issue.message).toContain('"https://bad.example.com/x" is not one');
    });

    it('a JWT_SECRET shorter than 32 characters is refused without echoing it', () => {
      const shortSecret = 'hunter2-is-not-a-secret';
      const issues = issuesOf({ JWT_SECRET: shortSecret });
      expect(issues).toEqual([
        {
          variable: 'JWT_SECRET',
          message: `got a value of ${shortSecret.length} characters; expected at least 32 characters`,
        },
      ]);
      expect(formatConfigIssues(issues)).not.toContain(shortSecret);
      expect(JSON.stringify(issues)).not.toContain(shortSecret);
    });

    it('reports several wrong values at once, in schema order', () => {
      const issues = issuesOf({
        PORT: 'abc',
        REDIS_URL: 'http://x',
        WS_TRANSPORTS: 'carrier-pigeon',
        LOG_LEVEL: 'loud',
      });
      expect(issues.map((issue) => issue.variable)).toEqual([
        'PORT',
        'REDIS_URL',
        'WS_TRANSPORTS',
        'LOG_LEVEL',
      ]);
    });
  });
});

describe('formatConfigIssues', () => {
  it('says the server was not started and gives one line per variable', () => {
    const issues = issuesOf({ PORT: 'abc', REDIS_ADAPTER: 'kafka' });
    const text = formatConfigIssues(issues);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/not started/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^\s+PORT: got "abc"; expected /),
      expect.stringMatching(/^\s+REDIS_ADAPTER: got "kafka"; expected /),
    ]);
  });
});

/**
 * `.env.example` and ENV_SCHEMA stay in step. The rules for `.env.example`, one line each:
 * - `KEY=default` for every key with a schema default, the value exactly the schema default;
 * - `# KEY=` (hash, one space, key, `=`, nothing after) for every key without a default;
 * - blank lines, and prose comment lines starting with `# ` that are not of the form above.
 * Every schema key appears exactly once, and no other key appears.
 */
describe('.env.example', () => {
  type Entry = { key: string; value: string | undefined };

  function readEnvExample(): Entry[] {
    const text = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const entries: Entry[] = [];
    for (const [index, line] of text.split(/\r?\n/).entries()) {
      const assignment = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
      const optional = /^# ([A-Z][A-Z0-9_]*)=$/.exec(line);
      if (assignment) entries.push({ key: assignment[1], value: assignment[2] });
      else if (optional) entries.push({ key: optional[1], value: undefined });
      else if (line.trim() !== '' && !line.startsWith('# ') && line !== '#') {
        throw new Error(`.env.example line ${index + 1} is neither KEY=value nor a comment`);
      }
    }
    return entries;
  }

  it('lists exactly the schema keys, each once', () => {
    const keys = readEnvExample().map((entry) => entry.key);
    expect([...keys].sort()).toEqual(Object.keys(ENV_SCHEMA).sort());
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives each key its schema default, and leaves keys without a default commented out', () => {
    const fromFile = Object.fromEntries(readEnvExample().map(({ key, value }) => [key, value]));
    const fromSchema = Object.fromEntries(
      Object.entries(ENV_SCHEMA).map(([key, spec]) => [key, spec.default as string | undefined]),
    );
    expect(fromFile).toEqual(fromSchema);
  });

  it('is a valid configuration as it stands', () => {
    const env = Object.fromEntries(
      readEnvExample().flatMap(({ key, value }) => (value === undefined ? [] : [[key, value]])),
    );
    expect(loadConfig(env).ok).toBe(true);
  });
});
