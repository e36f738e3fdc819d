import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { jwtVerify } from 'jose';
import { mintToken } from '../src/auth/token-minter.js';
import { CHAT_NAMESPACE, ChatEvent } from '../src/chat/chat.events.js';
import { closeAllClients, connectClient, waitFor } from './support/clients.js';
import { killAllSpawned, runMainToExit, spawnApp } from './support/spawn-app.js';

const SECRET = 'binary-test-secret-long-enough-for-hs256-0123456789';

afterEach(() => {
  closeAllClients();
  killAllSpawned();
});

describe('node dist/main.js: configuration errors stop it before it listens', () => {
  it('a bad PORT exits non-zero naming the variable, the value and what is expected', async () => {
    const { code, stderr, stdout } = await runMainToExit({ PORT: 'abc', JWT_SECRET: SECRET });
    expect(code).toBe(1);
    expect(stderr).toContain('PORT: got "abc"; expected an integer from 0 to 65535');
    expect(stdout).not.toContain('listening');
  });

  it('every bad variable is reported at once', async () => {
    const { code, stderr } = await runMainToExit({
      JWT_SECRET: SECRET,
      WS_TRANSPORTS: 'carrier-pigeon',
      CORS_ORIGINS: 'not a url',
      REDIS_ADAPTER: 'kafka',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/WS_TRANSPORTS: got "carrier-pigeon"; expected/);
    expect(stderr).toMatch(/CORS_ORIGINS: got "not a url"; expected/);
    expect(stderr).toMatch(/REDIS_ADAPTER: got "kafka"; expected one of pubsub, sharded, streams/);
  });

  it('NODE_ENV=production without a JWT key is a startup error', async () => {
    const { code, stderr } = await runMainToExit({ NODE_ENV: 'production' });
    expect(code).toBe(1);
    expect(stderr).toContain('JWT_SECRET: is required when NODE_ENV=production');
  });

  it('a too-short secret is refused without echoing it', async () => {
    const { code, stderr } = await runMainToExit({ JWT_SECRET: 'hunter2' });
    expect(code).toBe(1);
    expect(stderr).toContain(
      'JWT_SECRET: got a value of 7 characters; expected at least 32 characters',
    );
    expect(stderr).not.toContain('hunter2');
  });

  it('a port already in use exits non-zero with the reason', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const { code, stderr } = await runMainToExit({ PORT: String(port), JWT_SECRET: SECRET });
      expect(code).toBe(1);
      expect(stderr).toContain('EADDRINUSE');
    } finally {
      blocker.close();
    }
  });
});

describe('node dist/cli/token.js (npm run token)', () => {
  // In a folder of its own: the repository's kept development secret or .env must not count.
  const runTokenCli = async (args: string[], env: Record<string, string>) => {
    const cwd = await mkdtemp(join(tmpdir(), 'token-cli-'));
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('../dist/cli/token.js', import.meta.url)), ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', ...env } },
    );
    child.once('exit', () => void rm(cwd, { recursive: true, force: true }));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stdout: stdout.trim(), stderr };
  };

  it('prints a token the server accepts, for the given sub and name', async () => {
    const { code, stdout } = await runTokenCli(['--sub', 'alice', '--name', 'Alice'], {
      JWT_SECRET: SECRET,
    });
    expect(code).toBe(0);
    const { payload } = await jwtVerify(stdout, new TextEncoder().encode(SECRET), {
      algorithms: ['HS256'],
    });
    expect(payload).toMatchObject({ sub: 'alice', name: 'Alice', exp: expect.any(Number) });
  });

  it('puts --rooms in the rooms claim, one pattern per comma', async () => {
    const { code, stdout } = await runTokenCli(
      ['--sub', 'alice', '--rooms', 'private:team-*, private:ops'],
      { JWT_SECRET: SECRET },
    );
    expect(code).toBe(0);
    const { payload } = await jwtVerify(stdout, new TextEncoder().encode(SECRET), {
      algorithms: ['HS256'],
    });
    expect(payload.rooms).toEqual(['private:team-*', 'private:ops']);
  });

  it('explains what is missing instead of printing a token', async () => {
    expect(await runTokenCli(['--sub', 'alice'], {})).toMatchObject({
      code: 1,
      stdout: '',
      stderr: expect.stringContaining('JWT_SECRET'),
    });
    expect(await runTokenCli([], { JWT_SECRET: SECRET })).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--sub'),
    });
  });
});

describe('node dist/main.js: a good configuration serves', () => {
  it('with no environment at all it starts in development on a kept dev secret, never printed', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'bare-app-'));
    try {
      const app = await spawnApp({}, { cwd });
      expect((await fetch(`${app.url}/health`)).status).toBe(200);
      const page = await fetch(`${app.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      const secret = (await readFile(join(cwd, '.jwt-dev-secret'), 'utf8')).trim();
      expect(secret.length).toBeGreaterThanOrEqual(32);
      expect(app.output()).toContain('.jwt-dev-secret');
      expect(app.output()).not.toContain(secret);
      expect(await app.stop('SIGTERM')).toBe(0);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it('exits on SIGTERM even when nothing reads its output any more (a log pipe that went away)', async () => {
    const app = await spawnApp({ JWT_SECRET: SECRET });
    app.stdout().destroy();
    // Its last log lines cannot be written: it must exit all the same, not spin on them.
    const exited = app.stop('SIGTERM');
    const deadline = new Promise<'still running'>((resolve) =>
      setTimeout(() => resolve('still running'), 5000).unref(),
    );
    expect(await Promise.race([exited, deadline])).toEqual(expect.any(Number));
  });

  it('answers /health, /health/live and /health/ready, and exits 0 on SIGTERM', async () => {
    const app = await spawnApp({ JWT_SECRET: SECRET });
    // With a real secret the dev route would let anyone sign as anyone: it does not exist.
    expect((await fetch(`${app.url}/dev/token`, { method: 'POST' })).status).toBe(404);
    for (const path of ['/health', '/health/live', '/health/ready']) {
      const res = await fetch(`${app.url}${path}`);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      expect(await res.json()).toMatchObject({ status: 'ok' });
    }
    expect(await app.stop('SIGTERM')).toBe(0);
    expect(app.output()).toContain('"msg":"shutdown complete"');
  });

  it('logs one JSON line per connection and disconnection with the user and reason, and never a token', async () => {
    const app = await spawnApp({ JWT_SECRET: SECRET, LOG_LEVEL: 'trace' });
    const token = await mintToken({ secret: SECRET, sub: 'alice', name: 'Alice' });
    const viaAuth = await connectClient(app.url, CHAT_NAMESPACE, { auth: { token } });
    const viaQuery = await connectClient(app.url, CHAT_NAMESPACE, {
      query: { access_token: token },
    });
    const viaHeader = await connectClient(app.url, CHAT_NAMESPACE, {
      transports: ['polling'],
      extraHeaders: { Authorization: `Bearer ${token}` },
    });
    await viaAuth.emitWithAck(ChatEvent.RoomJoin, { room: 'logs' });
    const refused = await fetch(
      `${app.url}/socket.io/?EIO=4&transport=polling&access_token=${token}x`,
    );
    expect(refused.status).toBe(401);
    for (const socket of [viaAuth, viaQuery, viaHeader]) {
      const closed = waitFor(socket, 'disconnect');
      socket.disconnect();
      await closed;
    }
    expect(await app.stop('SIGTERM')).toBe(0);

    const lines = app
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'));
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const connected = entries.filter((entry) => entry.event === 'connected');
    const disconnected = entries.filter((entry) => entry.event === 'disconnected');
    expect(connected).toHaveLength(3);
    expect(connected[0]).toMatchObject({
      namespace: CHAT_NAMESPACE,
      userId: 'alice',
      socketId: expect.any(String),
    });
    expect(disconnected).toHaveLength(3);
    expect(disconnected[0]).toMatchObject({ userId: 'alice', reason: expect.any(String) });
    expect(entries.filter((entry) => entry.event === 'refused')).toEqual([
      expect.objectContaining({ status: 401, reason: 'invalid_signature' }),
    ]);
    const [, payload, signature] = token.split('.');
    expect(app.output()).not.toContain(payload);
    expect(app.output()).not.toContain(signature);
  });
});
