import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './redis.js';

const NGINX =
  process.env.NGINX_BIN ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx');
const running = new Set<ChildProcess>();

export interface Nginx {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** What nginx wrote to stderr (its error log) so far. */
  output(): string;
  stop(): Promise<void>;
}

/** True when Debian's nginx is installed (`.ci/run` installs it). */
export function nginxAvailable(): boolean {
  return spawnSync(NGINX, ['-v'], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts nginx in the foreground, as one process (no master/worker split, so one PID to
 * kill), with `config(port)` as its whole `nginx.conf`; the config must not set `pid`,
 * `daemon` or `master_process`. The error log goes to stderr, everything else to a temp dir.
 */
export async function startNginx(config: (port: number) => string): Promise<Nginx> {
  const dir = await mkdtemp(join(tmpdir(), 'nginx-'));
  const port = await freePort();
  const file = join(dir, 'nginx.conf');
  await writeFile(file, config(port));
  const check = spawnSync(
    NGINX,
    ['-t', '-q', '-p', dir, '-e', 'stderr', '-c', file, '-g', globals(dir)],
    {
      encoding: 'utf8',
    },
  );
  if (check.status !== 0) throw new Error(`nginx -t failed:\n${check.stderr}`);
  const child = spawn(NGINX, ['-p', dir, '-e', 'stderr', '-c', file, '-g', globals(dir)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let out = '';
  child.stderr.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  const exited = once(child, 'exit');
  child.once('exit', () => running.delete(child));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${out}`);
      return fetch(`${url}/`).then(
        () => 'listening',
        () => 'not listening',
      );
    },
    (state) => state === 'listening',
    5000,
  );
  return {
    port,
    url,
    pid: child.pid!,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGQUIT');
        const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Kills, by PID, every nginx these helpers started that is still running. */
export function killAllNginx(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
}

function globals(dir: string): string {
  return `daemon off; master_process off; pid ${join(dir, 'nginx.pid')};`;
}
