/**
 * Child processes and loopback ports for the development tools, the bench and the tests:
 * a free port, polling for readiness, a bounded stop, and no orphan left on exit.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

export const LOOPBACK = '127.0.0.1';
/** How long a child asked to stop gets before SIGKILL, unless the caller says otherwise. */
export const STOP_GRACE_MS = 5_000;

/** A port the OS just handed out on loopback; someone else may take it before you bind it. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, LOOPBACK);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export function isPortFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, LOOPBACK, () => server.close(() => resolve(true)));
  });
}

/**
 * Polls `check` until it resolves true, for readiness that emits no event we can await (a
 * port that starts answering, a cluster that forms). An error from `check` ends the wait.
 */
export async function waitUntil(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; failure: string; details?: () => string; intervalMs?: number },
): Promise<void> {
  const { timeoutMs, failure, details, intervalMs = 25 } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() >= deadline) {
      const said = details ? `:\n${details()}` : '';
      throw new Error(`${failure} within ${timeoutMs} ms${said}`);
    }
    await delay(intervalMs);
  }
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Asks `child` to stop (a signal, or `ask()` for another way such as an IPC message),
 * SIGKILLs it after `graceMs`, and resolves with its exit code (null when a signal ended it).
 */
export async function stopProcess(
  child: ChildProcess,
  ask: NodeJS.Signals | (() => void) = 'SIGTERM',
  graceMs = STOP_GRACE_MS,
): Promise<number | null> {
  if (child.pid === undefined || hasExited(child)) return child.exitCode;
  const exited = once(child, 'exit');
  if (typeof ask === 'function') ask();
  else child.kill(ask);
  const sigkill = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    const [code] = (await exited) as [number | null];
    return code;
  } finally {
    clearTimeout(sigkill);
  }
}

const killedOnExit = new Set<ChildProcess>();

/** SIGKILLs `child` if this process exits while it still runs: process.exit() leaves no orphan. */
export function killOnExit(child: ChildProcess): void {
  if (!process.listeners('exit').includes(killAllOnExit)) process.on('exit', killAllOnExit);
  killedOnExit.add(child);
  child.once('exit', () => killedOnExit.delete(child));
}

function killAllOnExit(): void {
  for (const child of killedOnExit) child.kill('SIGKILL');
}
