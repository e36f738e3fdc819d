import { parseArgs } from 'node:util';
import { runSmoke } from './smoke-check.js';

/**
 * `node dist/cli/smoke.js --url http://localhost:8080 [--direct http://app-1:3000,…]
 * [--clients 30] [--sources 16] [--transports websocket] [--timeout-ms 15000]`, with `JWT_SECRET` set: checks a running
 * deployment from outside (see `smoke-check.ts`), prints a JSON report, exits 0 or 1.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.SMOKE_URL },
      direct: { type: 'string', default: process.env.SMOKE_DIRECT },
      clients: { type: 'string', default: '30' },
      sources: { type: 'string', default: '0' },
      transports: { type: 'string' },
      'timeout-ms': { type: 'string', default: '15000' },
    },
  });
  const secret = process.env.JWT_SECRET;
  if (!secret || secret.length < 32)
    throw new Error('JWT_SECRET must be set (at least 32 characters), the same as the servers use');
  if (!values.url) throw new Error('--url (or SMOKE_URL) is required: the load balancer');
  const report = await runSmoke({
    url: values.url.replace(/\/$/, ''),
    direct: values.direct ? values.direct.split(',').map((u) => u.trim().replace(/\/$/, '')) : [],
    clients: positive(values.clients, '--clients'),
    sources: Number(values.sources),
    secret,
    timeoutMs: positive(values['timeout-ms'], '--timeout-ms'),
    transports: values.transports ? transportList(values.transports) : undefined,
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  process.exitCode = report.ok ? 0 : 1;
}

function transportList(text: string): ('polling' | 'websocket')[] {
  const names = text.split(',').map((name) => name.trim());
  if (!names.every((name) => name === 'polling' || name === 'websocket'))
    throw new Error('--transports takes polling and/or websocket, comma-separated');
  return names;
}

function positive(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer`);
  return value;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
