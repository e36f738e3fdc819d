import { parseCliArgs } from './cli-args.js';
import { runSmoke } from './smoke-check.js';

/**
 * `node dist/cli/smoke.js --url http://localhost:8080 [--direct http://app-1:3000,…]
 * [--clients 30] [--sources 16] [--transports websocket] [--timeout-ms 15000]`, with `JWT_SECRET` set: checks a running
 * deployment from outside (see `smoke-check.ts`), prints a JSON report, exits 0 or 1.
 */
const USAGE = `
Usage: node dist/cli/smoke.js --url <load balancer URL> [options]   (npm run smoke -- …)

Checks a running deployment from outside: health through the load balancer,
then stock socket.io clients (polling first, then the upgrade: what needs
sticky sessions) and one client on each --direct instance, all in one room;
every message must reach every other member once, and presence must list them.
Prints a JSON report; exits 0 when all is well, 1 otherwise. Needs JWT_SECRET
(from the environment or .env), the same the servers use.

  --url          the load balancer (or SMOKE_URL), required
  --direct       the instances' own URLs, comma-separated (or SMOKE_DIRECT)
  --clients      clients through the balancer (default: 30)
  --sources      loopback networks to spread them over, for an address hash (default: 0)
  --transports   polling and/or websocket, comma-separated (default: both)
  --timeout-ms   how long each check may take (default: 15000)
  --help         this text
`;

async function main(): Promise<void> {
  const { values } = parseCliArgs(USAGE, {
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
