import { randomBytes } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { pino } from 'pino';
import { AppModule } from '../app.module.js';
import { loadConfig } from '../config/app-config.js';
import type { AsyncApiDocument } from './asyncapi-document.js';
import { ContractService } from './contract.service.js';

/**
 * The document `GET /asyncapi.json` serves, built without a server: the app's modules are
 * created (nothing listens, no socket server starts) and closed again.
 */
export async function generateContractDocument(): Promise<AsyncApiDocument> {
  const loaded = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JWT_SECRET: randomBytes(32).toString('base64url'),
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  const logger = pino({ level: 'silent' });
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(loaded.config, logger), {
    logger: false,
  });
  try {
    return app.get(ContractService).asyncApi();
  } finally {
    await app.close();
  }
}
