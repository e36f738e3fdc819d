import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { freePort, isPortFree, LOOPBACK, stopProcess, waitUntil } from './processes.js';

/** A node child that prints `ready` once its handlers are in place; `script` runs first. */
async function nodeChild(script: string) {
  const child = spawn(process.execPath, ['-e', `${script}; console.log('ready')`], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  await once(child.stdout!, 'data');
  return child;
}

describe('processes', () => {
  it('freePort gives a loopback port nobody holds, and isPortFree sees it taken once bound', async () => {
    const port = await freePort();
    expect(await isPortFree(port)).toBe(true);
    const server = createServer().listen(port, LOOPBACK);
    await once(server, 'listening');
    expect(await isPortFree(port)).toBe(false);
    server.close();
    await once(server, 'close');
  });

  it('waitUntil resolves once the check holds, and fails naming what and the details', async () => {
    let calls = 0;
    await waitUntil(() => Promise.resolve(++calls === 3), {
      timeoutMs: 1000,
      failure: 'x',
      intervalMs: 1,
    });
    expect(calls).toBe(3);
    await expect(
      waitUntil(() => Promise.resolve(false), {
        timeoutMs: 20,
        failure: 'thing not ready',
        details: () => 'it said no',
      }),
    ).rejects.toThrow('thing not ready within 20 ms:\nit said no');
  });

  it('stopProcess asks with the signal and resolves with the exit code', async () => {
    const child = await nodeChild(
      `process.on('SIGTERM', () => process.exit(3)); setInterval(() => {}, 1000)`,
    );
    expect(await stopProcess(child)).toBe(3);
  });

  it('stopProcess SIGKILLs a child that ignores the request after the grace period', async () => {
    const child = await nodeChild(`process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)`);
    expect(await stopProcess(child, 'SIGTERM', 50)).toBeNull();
    expect(child.signalCode).toBe('SIGKILL');
  });

  it('stopProcess can ask another way, such as an IPC message', async () => {
    const child = await nodeChild(`process.on('message', () => process.exit(0))`);
    expect(await stopProcess(child, () => child.send('close'))).toBe(0);
  });

  it('stopProcess on a child that already exited resolves at once', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    expect(await stopProcess(child)).toBe(0);
  });
});
