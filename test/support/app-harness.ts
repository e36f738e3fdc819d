import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { pino } from 'pino';
import { AppModule } from '../../src/app.module.js';
import { setupApp } from '../../src/app.setup.js';
import type { RealtimeIoAdapter } from '../../src/socket-server/realtime-io.adapter.js';
import { type AppConfig, loadConfig } from '../../src/config/app-config.js';
import { mintToken, type MintOptions } from '../../src/auth/token-minter.js';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export interface TestApp {
  readonly app: INestApplication;
  readonly adapter: RealtimeIoAdapter;
  readonly config: AppConfig;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  token(sub: string, options?: Partial<Omit<MintOptions, 'sub' | 'secret'>>): Promise<string>;
  close(): Promise<void>;
}

export interface StartOptions {
  readonly env?: Record<string, string>;
  /** Extra modules imported next to `AppModule`, e.g. a gateway built by the test. */
  readonly imports?: Type[];
  /** False: gateways on NestJS's stock path instead of the shared handler tables. */
  readonly routeGateways?: boolean;
  /** Runs on the app before setup, e.g. `app.useGlobalGuards(…)`. */
  readonly configure?: (app: INestApplication) => void;
}

/** Boots the real `AppModule` in this process, listening on a free port (port 0). */
export async function startApp({
  env = {},
  imports = [],
  routeGateways,
  configure,
}: StartOptions = {}): Promise<TestApp> {
  const loaded = loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    // No drain window unless a test asks for one: closing an app with clients still on (they
    // were just told to disconnect) lets them go at once rather than waiting out a window.
    SHUTDOWN_DRAIN_MS: '0',
    ...env,
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
  const { config } = loaded;
  const logger = pino({ level: config.log.level });
  const moduleRef = await Test.createTestingModule({
    imports: [AppModule.forRoot(config, logger), ...imports],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  configure?.(app);
  const adapter = await setupApp(app, config, logger, { routeGateways });
  await app.listen(0, '127.0.0.1');
  const address = (app.getHttpServer() as Server).address() as AddressInfo;
  const url = `http://127.0.0.1:${address.port}`;
  return {
    app,
    adapter,
    config,
    url,
    token: (sub, options = {}) =>
      mintToken({ secret: config.auth.secret ?? TEST_SECRET, sub, ...options }),
    close: () => app.close(),
  };
}
