import { formatConfigIssues, loadConfig } from '../config/app-config.js';
import { DEV_SECRET_FILE, readDevSecret } from '../config/dev-secret.js';
import { mintToken } from '../auth/token-minter.js';
import { parseCliArgs } from './cli-args.js';

const USAGE = `
Usage: npm run token -- --sub <user id> [--name <display name>] [--ttl <seconds>]
                       [--rooms <pattern,pattern…>]

Prints an HS256 access token the server accepts, for a client of your own
(io(url, { auth: { token } })). It signs with the key the server would use:
JWT_SECRET from the environment or .env; without one, in development, the
development secret the server keeps in ${DEV_SECRET_FILE}. JWT_ISSUER and
JWT_AUDIENCE, when set, become the iss and aud claims.

  --sub   the user id (the token's sub), required
  --name  the display name (default: the sub)
  --ttl   lifetime in seconds (default: 3600)
  --rooms the rooms claim: private rooms the user may enter, comma-separated,
          with * as a wildcard (e.g. private:team-*,private:ops)
  --help  this text
`;

async function main(): Promise<void> {
  const { values } = parseCliArgs(USAGE, {
    options: {
      sub: { type: 'string' },
      name: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      rooms: { type: 'string' },
    },
  });
  if (!values.sub)
    throw new Error('--sub is required, e.g. npm run token -- --sub alice --name Alice');
  const ttlS = Number(values.ttl);
  if (!Number.isInteger(ttlS) || ttlS <= 0)
    throw new Error('--ttl must be a positive number of seconds');
  const secret = serverSecret();
  const token = await mintToken({
    secret: secret.value,
    sub: values.sub,
    name: values.name,
    ttlS,
    rooms: values.rooms?.split(',').map((pattern) => pattern.trim()),
    issuer: process.env.JWT_ISSUER || undefined,
    audience: process.env.JWT_AUDIENCE || undefined,
  });
  process.stdout.write(`${token}\n`);
  if (secret.fromFile)
    process.stderr.write(`(signed with the development secret in ${secret.fromFile})\n`);
}

/** The secret the server would verify with, read the way the server reads its config. */
function serverSecret(): { value: string; fromFile?: string } {
  let fromFile: string | undefined;
  const loaded = loadConfig(process.env, {
    // Read, never created here: a secret no server uses yet would sign useless tokens.
    devSecret: () => {
      const kept = readDevSecret();
      if (!kept) {
        throw new Error(
          `JWT_SECRET is not set and there is no ${DEV_SECRET_FILE} here yet: start the server once (npm start), which creates it, or set JWT_SECRET to the server's`,
        );
      }
      fromFile = DEV_SECRET_FILE;
      return kept.secret;
    },
  });
  if (!loaded.ok) {
    throw new Error(
      formatConfigIssues(loaded.issues, 'Invalid configuration (the server would refuse it too):'),
    );
  }
  const { auth, env } = loaded.config;
  if (auth.secret === undefined) {
    throw new Error(
      'JWT_SECRET is not set: the server verifies tokens from JWT_JWKS_URL, so get one from your identity provider',
    );
  }
  if (auth.secretIsGenerated && fromFile === undefined) {
    throw new Error(`JWT_SECRET must be set: with NODE_ENV=${env} the server uses a random secret`);
  }
  return { value: auth.secret, fromFile };
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
