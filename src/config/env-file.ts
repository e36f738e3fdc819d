import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { readOptionalFile } from '../common/read-optional.js';

/**
 * Reads `<dir>/.env` into `env` when the file exists, as `node --env-file` would: a variable
 * the environment already has (even empty) wins over the file. Returns the file's path, or
 * `undefined` when there is none. The server and every CLI call it first.
 */
export function applyEnvFile(
  env: NodeJS.ProcessEnv = process.env,
  dir = process.cwd(),
): string | undefined {
  const path = join(dir, '.env');
  const text = readOptionalFile(path);
  if (text === undefined) return undefined;
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (env[key] === undefined && value !== undefined) env[key] = value;
  }
  return path;
}
