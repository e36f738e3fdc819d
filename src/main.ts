import 'reflect-metadata';
import { relative } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module.js';
import { setupApp } from './app.setup.js';
import { installCrashPolicy } from './lifecycle/crash-policy.js';
import { handleShutdownSignals } from './lifecycle/shutdown-signals.js';
import { formatConfigIssues, loadConfig } from './config/app-config.js';
import { type KeptDevSecret, keptDevSecret } from './config/dev-secret.js';
import { applyEnvFile } from './config/env-file.js';
import { browserUrl, devBanner } from './logging/dev-banner.js';
import { createAppLogger } from './logging/logger.js';
import { PinoLoggerService } from './logging/pino-logger.service.js';

async function bootstrap(): Promise<void> {
  applyEnvFile();
  let devSecret: KeptDevSecret | undefined;
  const loaded = loadConfig(process.env, {
    devSecret: () => (devSecret = keptDevSecret()).secret,
  });
  if (!loaded.ok) {
    process.stderr.write(`${formatConfigIssues(loaded.issues)}\n`);
    process.exit(1);
  }
  const { config } = loaded;
  const logger = await createAppLogger(config.log);
  installCrashPolicy(logger);
  const devSecretFile = devSecret && relative(process.cwd(), devSecret.path);
  if (devSecret) {
    logger.warn(
      { devJwtSecretFile: devSecret.path, created: devSecret.created },
      `JWT_SECRET is not set: tokens are signed with the development secret kept in ${devSecretFile}. ` +
        'Set JWT_SECRET (or JWT_JWKS_URL) anywhere else; NODE_ENV=production refuses to start without one.',
    );
  }
  const app = await NestFactory.create(AppModule.forRoot(config, logger), {
    logger: new PinoLoggerService(logger),
    // Let a failed start (Redis unreachable, say) reach the one error path below.
    abortOnError: false,
  });
  await setupApp(app, config, logger);
  const { drainMs } = config.shutdown;
  // The drain window plus time to close servers and clients; inside the contract's +5 s.
  handleShutdownSignals(app, { drainMs, deadlineMs: drainMs + 4000, logger });
  await app.listen(config.http.port, config.http.host);
  logger.info({ url: await app.getUrl(), env: config.env }, 'listening');
  if (config.env === 'development') {
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    const url = browserUrl(config.http.host, port);
    process.stdout.write(devBanner({ url, drainMs, devSecretFile }));
  }
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
