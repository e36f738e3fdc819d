import { randomBytes } from 'node:crypto';
import { linkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readOptionalFile } from '../common/read-optional.js';

/** The file, in the working folder, that keeps the development JWT secret (git-ignored). */
export const DEV_SECRET_FILE = '.jwt-dev-secret';

export interface KeptDevSecret {
  readonly secret: string;
  readonly path: string;
  /** True when this call created the file. */
  readonly created: boolean;
}

/**
 * The development secret kept in `<dir>/.jwt-dev-secret`: read when the file exists, else
 * created with mode 0600. The server and `npm run token` share it, so a token outlives a
 * restart. Never used in production, where a missing key is a startup error.
 */
export function keptDevSecret(dir = process.cwd()): KeptDevSecret {
  const path = join(dir, DEV_SECRET_FILE);
  const existing = readSecret(path);
  if (existing !== undefined) return { secret: existing, path, created: false };
  const secret = randomBytes(32).toString('base64url');
  // Written aside, then linked into place: a process starting at the same moment (the CLI
  // beside the server) sees either no file or the whole secret, and one secret wins.
  const draft = `${path}.${process.pid}.tmp`;
  writeFileSync(draft, `${secret}\n`, { mode: 0o600 });
  try {
    linkSync(draft, path);
    return { secret, path, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { secret: readSecret(path) ?? secret, path, created: false };
  } finally {
    rmSync(draft, { force: true });
  }
}

/** The kept development secret when the file exists (what `npm run token` signs with). */
export function readDevSecret(dir = process.cwd()): KeptDevSecret | undefined {
  const path = join(dir, DEV_SECRET_FILE);
  const secret = readSecret(path);
  return secret === undefined ? undefined : { secret, path, created: false };
}

function readSecret(path: string): string | undefined {
  const text = readOptionalFile(path);
  if (text === undefined) return undefined;
  const secret = text.trim();
  if (secret.length < 32) {
    throw new Error(
      `${path} does not hold a secret of at least 32 characters: delete it to get a new one, or set JWT_SECRET`,
    );
  }
  return secret;
}
