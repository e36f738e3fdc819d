import { type ParseArgsConfig, parseArgs } from 'node:util';
import { applyEnvFile } from '../config/env-file.js';

/**
 * What every CLI here does first: reads `.env` as the server does, answers `--help` (`-h`)
 * with its usage and exit 0, and parses the rest, an unknown option failing with the usage.
 */
export function parseCliArgs<const T extends ParseArgsConfig>(
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  applyEnvFile();
  const args = config.args ?? process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage.trim()}\n`);
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\n\n${usage.trim()}`,
      {
        cause: error,
      },
    );
  }
}
