/**
 * The first hour of a new user, on the built binary and CLIs in a folder of their own: the
 * development secret kept across restarts and shared with `npm run token`, `.env`, the
 * start banner and short logs, a short development drain, and CLIs that explain themselves.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../src/auth/token-minter.js';
import { CHAT_NAMESPACE } from '../src/chat/chat.events.js';
import { closeAllClients, connectClient } from './support/clients.js';
import { eventually } from './support/eventually.js';
import { freePort } from './support/redis.js';
import { killAllSpawned, runMainToExit, spawnApp } from './support/spawn-app.js';

/** The app's CLIs are built into dist/cli; the development tools into dist-tools/tools. */
const CLI = (name: string) =>
  fileURLToPath(
    new URL(
      name === 'start-cluster' ? `../dist-tools/tools/${name}.js` : `../dist/cli/${name}.js`,
      import.meta.url,
    ),
  );
const SECRET = 'first-run-test-secret-long-enough-for-hs256-0123456789';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'first-run-'))));
afterEach(() => {
  closeAllClients();
  killAllSpawned();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a CLI to completion in the test's folder, with only PATH and `env`. */
async function runCli(name: string, args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [CLI(name), ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

const chatWith = (url: string, token: string) =>
  connectClient(url, CHAT_NAMESPACE, { auth: { token } });

describe('development without JWT_SECRET', () => {
  it('keeps its secret in .jwt-dev-secret (0600) across a restart, and npm run token signs with it', async () => {
    const first = await spawnApp({}, { cwd: dir });
    const file = join(dir, '.jwt-dev-secret');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const secret = readFileSync(file, 'utf8').trim();
    expect(first.output()).not.toContain(secret);

    const minted = await runCli('token', ['--sub', 'alice', '--name', 'Alice']);
    expect(minted).toMatchObject({ code: 0, stderr: expect.stringContaining('.jwt-dev-secret') });
    const token = minted.stdout.trim();
    (await chatWith(first.url, token)).disconnect();
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await spawnApp({}, { cwd: dir });
    (await chatWith(second.url, token)).disconnect();
    expect(readFileSync(file, 'utf8').trim()).toBe(secret);
    expect(await second.stop('SIGTERM')).toBe(0);
  });

  it('prints a banner and short pretty logs; Ctrl-C with a client on drains for 1 s, saying so', async () => {
    const app = await spawnApp({ HOST: '127.0.0.1', PORT: '0' }, { cwd: dir, bare: true });
    const port = new URL(app.url).port;
    // The banner follows the "listening" line.
    const started = await eventually(app.output, (out) => out.includes('Ctrl-C again'), 2000);
    expect(started).toContain(`Demo page   http://127.0.0.1:${port}/`);
    expect(started).toContain('npm run token -- --sub alice --name Alice');
    const logLines = started.split('\n').filter((line) => line.startsWith('['));
    expect(logLines.length).toBeLessThanOrEqual(3);
    expect(started).not.toMatch(/^\{/m);

    const secret = readFileSync(join(dir, '.jwt-dev-secret'), 'utf8').trim();
    await chatWith(app.url, await mintToken({ secret, sub: 'alice' }));
    const signalledAt = Date.now();
    const exitCode = await Promise.race([
      app.stop('SIGINT'),
      new Promise<string>((resolve) => setTimeout(() => resolve('still draining'), 8000).unref()),
    ]);
    expect(exitCode).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    expect(app.output()).toMatch(/draining for up to 1 s.*Ctrl-C again\) exits at once/);
  });

  it('NODE_ENV=production logs JSON lines only, and prints no banner', async () => {
    const app = await spawnApp(
      { NODE_ENV: 'production', JWT_SECRET: SECRET, HOST: '127.0.0.1', PORT: '0' },
      { cwd: dir, bare: true },
    );
    expect(await app.stop('SIGTERM')).toBe(0);
    const lines = app.output().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(app.output()).not.toContain('npm run token');
  });
});

describe('.env in the working folder', () => {
  it('gives the PORT, and a PORT in the environment beats it', async () => {
    const [fromFile, fromEnv] = [await freePort(), await freePort()];
    writeFileSync(
      join(dir, '.env'),
      `PORT=${fromFile}\nHOST=127.0.0.1\nJWT_SECRET=${SECRET}\nLOG_FORMAT=json\n`,
    );
    const byFile = await spawnApp({}, { cwd: dir, bare: true });
    expect(new URL(byFile.url).port).toBe(String(fromFile));
    expect(await byFile.stop('SIGTERM')).toBe(0);

    const byEnv = await spawnApp({ PORT: String(fromEnv) }, { cwd: dir, bare: true });
    expect(new URL(byEnv.url).port).toBe(String(fromEnv));
    // The secret came from the file too: no development secret was made.
    expect(() => statSync(join(dir, '.jwt-dev-secret'))).toThrow();
  });
});

describe('REDIS_URL without a key', () => {
  it('stops the start before it listens, naming JWT_SECRET', async () => {
    const { code, stderr, stdout } = await runMainToExit(
      { REDIS_URL: `redis://127.0.0.1:${await freePort()}` },
      { cwd: dir },
    );
    expect(code).toBe(1);
    expect(stderr).toContain('JWT_SECRET: is required with REDIS_URL');
    expect(stdout).not.toContain('listening');
  });
});

describe('the CLIs', () => {
  it.each(['token', 'notify', 'smoke', 'start-cluster'])(
    '%s --help prints its usage',
    async (name) => {
      const { code, stdout } = await runCli(name, ['--help']);
      expect({ code, usage: stdout.split('\n')[0] }).toEqual({
        code: 0,
        usage: expect.stringMatching(/^Usage: /),
      });
    },
  );

  it('an unknown option says so, with the usage', async () => {
    const { code, stderr } = await runCli('token', ['--sbu', 'alice']);
    expect(code).toBe(1);
    expect(stderr).toContain("Unknown option '--sbu'");
    expect(stderr).toContain('Usage: npm run token');
  });

  it('npm run notify without REDIS_URL says it needs a cluster, and how to notify yourself without one', async () => {
    const { code, stderr } = await runCli('notify', ['--user', 'alice', '--type', 'test']);
    expect(code).toBe(1);
    expect(stderr).toMatch(/REDIS_URL is not set: npm run notify needs a cluster/);
    expect(stderr).toContain('demo page');
  });

  it('npm run token refuses, naming JWT_SECRET, where no server key can be known', async () => {
    for (const env of [{ NODE_ENV: 'production' }, { NODE_ENV: 'test' }, {}] as Record<
      string,
      string
    >[]) {
      const { code, stdout, stderr } = await runCli('token', ['--sub', 'alice'], env);
      expect({ env, code, stdout }).toEqual({ env, code: 1, stdout: '' });
      expect(stderr).toContain('JWT_SECRET');
    }
    // Reading the kept secret never creates one.
    expect(() => statSync(join(dir, '.jwt-dev-secret'))).toThrow();
  });
});
