import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { setupApp } from './app.setup.js';
import { installCrashPolicy } from './lifecycle/crash-policy.js';
import { handleShutdownSignals } from './lifecycle/shutdown-signals.js';
import { formatConfigIssues, loadConfig } from './config/app-config.js';
import { createLogger } from './logging/logger.js';
import { PinoLoggerService } from './logging/pino-logger.service.js';

async function bootstrap(): Promise<void> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(`${formatConfigIssues(loaded.issues)}\n`);
    process.exit(1);
  }
  const { config } = loaded;
  const logger = createLogger(config.log.level);
  installCrashPolicy(logger);
  if (config.auth.secretIsGenerated) {
    logger.warn(
      { devJwtSecret: config.auth.secret },
      'JWT_SECRET is not set: using a random development secret, valid until this process exits. ' +
        'Mint tokens on the demo page, or set JWT_SECRET and run `npm run token -- --sub alice`. ' +
        'With NODE_ENV=production a missing JWT_SECRET stops the server.',
    );
  }
  const app = await NestFactory.create(AppModule.forRoot(config, logger), {
    logger: new PinoLoggerService(logger),
    // Let a failed start (Redis unreachable, say) reach the one error path below.
    abortOnError: false,
  });
  await setupApp(app, config, logger);
  // The drain window plus time to close servers and clients; inside the contract's +5 s.
  handleShutdownSignals(app, { deadlineMs: config.shutdown.drainMs + 4000, logger });
  await app.listen(config.http.port, config.http.host);
  logger.info({ url: await app.getUrl(), env: config.env }, 'listening');
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `Failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
