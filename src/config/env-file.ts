import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';

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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (env[key] === undefined && value !== undefined) env[key] = value;
  }
  return path;
}
