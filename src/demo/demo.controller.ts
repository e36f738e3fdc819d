import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PAGE = join(ROOT, 'public', 'index.html');
const CLIENT_DIR = join(ROOT, 'dist', 'client');
/** The client package's build: the page's import map points `@nest-realtime-starter/client` here. */
const CLIENT_PACKAGE_DIR = join(ROOT, 'client', 'dist');
const SOCKET_IO_CLIENT_DIR = join(
  dirname(createRequire(import.meta.url).resolve('socket.io-client/package.json')),
  'dist',
);
const CLIENT_MODULE = /^[a-z0-9-]+(\/[a-z0-9.-]+)*\.js$/;

/**
 * The demo chat page, its compiled modules, the client package's modules and the installed
 * socket.io client bundle.
 */
@Controller()
export class DemoController {
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
    sendModule(CLIENT_DIR, path, res);
  }

  @Get('client/*path')
  clientPackageModule(@Param('path') path: string[] | string, @Res() res: Response): void {
    sendModule(CLIENT_PACKAGE_DIR, path, res);
  }
}

/** A compiled ES module under `dir`; anything else (or a missing file) is a 404. */
function sendModule(dir: string, path: string[] | string, res: Response): void {
  const relative = Array.isArray(path) ? path.join('/') : path;
  if (!CLIENT_MODULE.test(relative) || relative.includes('..')) throw new NotFoundException();
  res.sendFile(join(dir, relative), { headers: { 'Cache-Control': 'no-cache' } }, (error) => {
    if (error && !res.headersSent) res.status(404).json({ statusCode: 404, message: 'Not Found' });
  });
}
