import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, stopProcess } from '../../tools/processes.js';
import { eventually } from './eventually.js';

const running = new Set<ChildProcess>();

/** A load balancer the test started, on a free port. */
export interface Balancer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly pid: number;
  /** What it wrote to stderr (its error log) so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Debian's binaries live in /usr/sbin, which a non-root PATH may lack. */
function binary(name: 'nginx' | 'haproxy'): string {
  const override = process.env[`${name.toUpperCase()}_BIN`];
  if (override) return override;
  return existsSync(`/usr/sbin/${name}`) ? `/usr/sbin/${name}` : name;
}

export const NGINX = binary('nginx');
export const HAPROXY = binary('haproxy');

export function available(command: string): boolean {
  return spawnSync(command, ['-v'], { stdio: 'ignore' }).status === 0;
}

/**
 * nginx in the foreground as one process (no master/worker split: one PID to kill), with
 * `config(port)` as its whole `nginx.conf` (which must not set `pid`, `daemon` or
 * `master_process`), checked with `nginx -t` first. The error log goes to stderr.
 */
export function startNginx(config: (port: number) => string): Promise<Balancer> {
  return launch('nginx.conf', config, (dir, file) => {
    const args = ['-p', dir, '-e', 'stderr', '-c', file, '-g'];
    const globals = `daemon off; master_process off; pid ${join(dir, 'nginx.pid')};`;
    return {
      check: [NGINX, [...args, globals, '-t', '-q']],
      run: [NGINX, [...args, globals]],
      stopSignal: 'SIGQUIT',
    };
  });
}

/** HAProxy in the foreground (`-db`) with `config(port)` as its config, checked with `-c`. */
export function startHaproxy(config: (port: number) => string): Promise<Balancer> {
  return launch('haproxy.cfg', config, (_dir, file) => ({
    check: [HAPROXY, ['-c', '-q', '-f', file]],
    run: [HAPROXY, ['-db', '-f', file]],
    // Hard stop: a soft one (SIGUSR1) waits for every client connection to end.
    stopSignal: 'SIGTERM',
  }));
}

/** Kills, by PID, every balancer these helpers started that is still running. */
export function killAllBalancers(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
}

type Command = [string, string[]];

async function launch(
  name: string,
  config: (port: number) => string,
  commands: (
    dir: string,
    file: string,
  ) => { check: Command; run: Command; stopSignal: NodeJS.Signals },
): Promise<Balancer> {
  const dir = await mkdtemp(join(tmpdir(), 'balancer-'));
  const port = await freePort();
  const file = join(dir, name);
  await writeFile(file, config(port));
  const { check, run, stopSignal } = commands(dir, file);
  // stdout is /dev/null, never a pipe: nginx opens /dev/stdout for its access log, which
  // fails on the socket Node would give it.
  const checked = spawnSync(check[0], check[1], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (checked.status !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${check.flat().join(' ')} failed:\n${checked.stderr}`);
  }
  const child = spawn(run[0], run[1], { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let out = '';
  child.stderr.on('data', (chunk: Buffer) => void (out += chunk.toString()));
  child.once('exit', () => running.delete(child));
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`${run[0]} exited with ${child.exitCode}:\n${out}`);
      return fetch(`${url}/health/live`).then(
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
      await stopProcess(child, stopSignal);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
