import { parseArgs } from 'node:util';
import { mintToken } from '../auth/token-minter.js';

/** `npm run token -- --sub alice --name Alice [--ttl 3600]`: prints an HS256 access token. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sub: { type: 'string' },
      name: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
    },
  });
  const secret = process.env.JWT_SECRET;
  if (!secret || secret.length < 32) {
    throw new Error('JWT_SECRET must be set (at least 32 characters), the same as the server uses');
  }
  if (!values.sub)
    throw new Error('--sub is required, e.g. npm run token -- --sub alice --name Alice');
  const ttlS = Number(values.ttl);
  if (!Number.isInteger(ttlS) || ttlS <= 0)
    throw new Error('--ttl must be a positive number of seconds');
  const token = await mintToken({
    secret,
    sub: values.sub,
    name: values.name,
    ttlS,
    issuer: process.env.JWT_ISSUER || undefined,
    audience: process.env.JWT_AUDIENCE || undefined,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
