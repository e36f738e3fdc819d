import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { pino } from 'pino';
import { format, resolveConfig } from 'prettier';
import { AppModule } from '../src/app.module.js';
import { loadConfig } from '../src/config/app-config.js';
import type { AsyncApiDocument } from '../src/contract/asyncapi-document.js';
import { ContractService } from '../src/contract/contract.service.js';

/**
 * `npm run contract`: writes docs/asyncapi.json, the document `GET /asyncapi.json` serves.
 * `npm run contract -- --release` also makes it the baseline that later changes are checked
 * against (docs/contract-compatibility.md): run it when you release.
 */

// Run from dist-tools/tools/.
const DOCS = new URL('../../docs/', import.meta.url);
const release = process.argv.includes('--release');
const targets = ['asyncapi.json', ...(release ? ['asyncapi.baseline.json'] : [])];

/** The app's modules are created (nothing listens, no socket server starts) and closed. */
async function generate(): Promise<AsyncApiDocument> {
  const loaded = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: randomBytes(32).toString('base64url'),
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  const app = await NestFactory.createApplicationContext(
    AppModule.forRoot(loaded.config, pino({ level: 'silent' })),
    { logger: false },
  );
  try {
    return app.get(ContractService).asyncApi();
  } finally {
    await app.close();
  }
}

const document = await generate();
for (const name of targets) {
  const path = fileURLToPath(new URL(name, DOCS));
  const options = (await resolveConfig(path)) ?? {};
  await writeFile(path, await format(JSON.stringify(document), { ...options, filepath: path }));
  process.stdout.write(`wrote ${path}\n`);
}
