import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));
const running = new Set<ChildProcess>();

export interface SpawnedApp {
  readonly url: string;
  readonly pid: number;
  /** Everything the process printed so far, stdout then stderr. */
  output(): string;
  /** The process's stdout, to stop reading it. */
  stdout(): NodeJS.ReadableStream & { destroy(): void };
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  readonly timeoutMs?: number;
  /**
   * The working folder (where the app reads `.env` and keeps `.jwt-dev-secret`). Default: a
   * fresh temporary folder, removed when the process exits, so a developer's `.env` is never
   * read and no secret file lands in the repository.
   */
  readonly cwd?: string;
  /** Only PATH and `env`: none of the defaults below (port 0, no drain window, JSON logs). */
  readonly bare?: boolean;
}

/** Runs the real binary, `node dist/main.js`, on a free port and waits until it listens. */
export async function spawnApp(
  env: Record<string, string>,
  { timeoutMs = 15_000, cwd, bare = false }: SpawnOptions = {},
): Promise<SpawnedApp> {
  const child = spawnMain(env, { cwd, bare });
  let out = '';
  const collect = (chunk: Buffer): void => void (out += chunk.toString());
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`app did not listen within ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    );
    const onData = (): void => {
      // A JSON line, or a pretty one: `… INFO: listening {"url":…}`.
      const match =
        /"url":"(http:\/\/[^"]+)".*"msg":"listening"/.exec(out) ??
        /INFO: listening \{"url":"(http:\/\/[^"]+)"/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(match[1].replace('[::1]', '127.0.0.1'));
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    output: () => out,
    stdout: () => child.stdout!,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, 'exit');
      child.kill(signal);
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

/** Runs the binary to completion (for configs that must stop it) and returns what it said. */
export async function runMainToExit(
  env: Record<string, string>,
  { cwd, bare = false }: Pick<SpawnOptions, 'cwd' | 'bare'> = {},
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const child = spawnMain(env, { cwd, bare });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Whether a process with this PID exists (signal 0 probes without signalling). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills, by PID, every process these helpers started that is still running. */
export function killAllSpawned(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  running.clear();
}

const DEFAULT_ENV = {
  HOST: '127.0.0.1',
  PORT: '0',
  // No drain window unless a test asks for one: tests stop apps with clients still on, and
  // those are let go at once.
  SHUTDOWN_DRAIN_MS: '0',
  // The tests read the JSON lines, also from a development-mode app (pretty by default).
  LOG_FORMAT: 'json',
};

function spawnMain(
  env: Record<string, string>,
  { cwd, bare }: Pick<SpawnOptions, 'cwd' | 'bare'>,
): ChildProcess {
  const ownDir = cwd ? undefined : mkdtempSync(join(tmpdir(), 'spawned-app-'));
  const child = spawn(process.execPath, [MAIN], {
    cwd: cwd ?? ownDir,
    env: { PATH: process.env.PATH ?? '', ...(bare ? {} : DEFAULT_ENV), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => {
    running.delete(child);
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  });
  return child;
}
