import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Res,
} from '@nestjs/common';
import type { Response } from 'express';
import { mintToken } from '../auth/token-minter.js';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PAGE = join(ROOT, 'public', 'index.html');
const CLIENT_DIR = join(ROOT, 'dist', 'client');
const SOCKET_IO_CLIENT_DIR = join(
  dirname(createRequire(import.meta.url).resolve('socket.io-client/package.json')),
  'dist',
);
const CLIENT_MODULE = /^[a-z0-9-]+(\/[a-z0-9.-]+)*\.js$/;

/** The demo chat page, its compiled client modules and the installed socket.io client bundle. */
@Controller()
export class DemoController {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  @Get()
  page(@Res() res: Response): void {
    res.sendFile(PAGE, { headers: { 'Cache-Control': 'no-cache' } });
  }

  @Get('vendor/socket.io.esm.min.js')
  socketIoClient(@Res() res: Response): void {
    res.sendFile(join(SOCKET_IO_CLIENT_DIR, 'socket.io.esm.min.js'), { maxAge: '1h' });
  }

  @Get('app/*path')
  clientModule(@Param('path') path: string[] | string, @Res() res: Response): void {
    const relative = Array.isArray(path) ? path.join('/') : path;
    if (!CLIENT_MODULE.test(relative) || relative.includes('..')) throw new NotFoundException();
    res.sendFile(
      join(CLIENT_DIR, relative),
      { headers: { 'Cache-Control': 'no-cache' } },
      (error) => {
        if (error && !res.headersSent)
          res.status(404).json({ statusCode: 404, message: 'Not Found' });
      },
    );
  }

  /** Development only: a token for the demo page, with the generated dev secret alone (404 otherwise). */
  @Post('dev/token')
  @HttpCode(201)
  async token(@Body() body: unknown): Promise<{ token: string; expiresInS: number }> {
    const { secret, devTokenRoute } = this.config.auth;
    if (!devTokenRoute || secret === undefined) throw new NotFoundException();
    const { sub, name } = (body ?? {}) as { sub?: unknown; name?: unknown };
    const user = typeof sub === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(sub) ? sub : 'guest';
    const display = typeof name === 'string' && name.trim() ? name.trim().slice(0, 64) : user;
    const expiresInS = 3600;
    const { issuer, audience } = this.config.auth;
    return {
      token: await mintToken({
        secret,
        sub: user,
        name: display,
        ttlS: expiresInS,
        issuer,
        audience,
      }),
      expiresInS,
    };
  }
}
