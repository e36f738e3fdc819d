import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ADMIN_NAMESPACE } from './admin-admission.js';

/** Where the page is served: the same path as the namespace it talks to. */
export const ADMIN_UI_PATH = ADMIN_NAMESPACE;

const STATIC_OPTIONS = { index: false, maxAge: '1h' } as const;
const PAGE_HEADERS = {
  'Cache-Control': 'no-cache',
  'Content-Security-Policy': "frame-ancestors 'none'",
} as const;

/**
 * Run by the page before the UI starts. The UI reads the server to connect to from its local
 * storage and otherwise asks for it: served from here, it is this origin, the Socket.IO path
 * beside `/admin/` (a proxy may mount the app under a prefix), and WebSocket only when the
 * server allows nothing else. A server chosen before is left as it is.
 */
const connectDefaults = (websocketOnly: boolean): string => `try {
  if (!localStorage.getItem('server_url')) {
    localStorage.setItem('server_url', location.origin);
    localStorage.setItem('path', location.pathname.replace(/admin\\/(index\\.html)?$/, '') + 'socket.io');
    localStorage.setItem('ws_only', '${websocketOnly}');
  }
} catch (e) {}
`;

export interface UiOptions {
  /** The server takes WebSocket only (`WS_TRANSPORTS`): the UI must not start with polling. */
  readonly websocketOnly: boolean;
}

const packageDir = (name: string): string =>
  dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));

/**
 * Serves the admin UI as `@socket.io/admin-ui` ships it (`ui/dist`), its page rewritten by
 * `localPage`, and the icon font from `@mdi/font`. Registered before NestJS's routes, on the
 * app's HTTP server, so the page and the socket server share an origin.
 */
export function serveAdminUi(app: INestApplication, { websocketOnly }: UiOptions): void {
  const uiDir = join(packageDir('@socket.io/admin-ui'), 'ui', 'dist');
  const iconsDir = packageDir('@mdi/font');
  const page = localPage(readFileSync(join(uiDir, 'index.html'), 'utf8'));
  const defaults = connectDefaults(websocketOnly);
  const http = app.getHttpAdapter();
  const serveStatic = http.useStaticAssets?.bind(http);
  if (!serveStatic) throw new Error('The admin UI is served on the Express platform only');
  http.use(ADMIN_UI_PATH, (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    const rest = req.originalUrl.slice(ADMIN_UI_PATH.length);
    // The page's files are relative to it, so `/admin` must become `/admin/`.
    if (rest === '' || rest.startsWith('?')) return res.redirect(301, `admin/${rest}`);
    if (req.path === '/' || req.path === '/index.html')
      return void res.set(PAGE_HEADERS).type('html').send(page);
    if (req.path === '/connect-defaults.js')
      return void res.set('Cache-Control', 'no-cache').type('js').send(defaults);
    next();
  });
  serveStatic(uiDir, { prefix: ADMIN_UI_PATH, ...STATIC_OPTIONS });
  for (const part of ['css', 'fonts'])
    serveStatic(join(iconsDir, part), {
      prefix: `${ADMIN_UI_PATH}/mdi/${part}`,
      ...STATIC_OPTIONS,
    });
}

const EXTERNAL_STYLESHEET = /<link rel="stylesheet" href="https?:\/\/[^"]*">/g;
const LOCAL_ICONS = '<link rel="stylesheet" href="mdi/css/materialdesignicons.min.css">';

/**
 * The packaged page loads Roboto from Google Fonts and the icon font from jsDelivr
 * (`@mdi/font@latest`: unpinned third-party CSS on a page that takes the admin password).
 * Here the icons come from the installed `@mdi/font`, Roboto gives way to the system
 * sans-serif, and `connect-defaults.js` runs first. Fails at start if the page is no longer
 * the one this rewrites.
 */
export function localPage(html: string): string {
  let icons = false;
  const page = html
    .replace(EXTERNAL_STYLESHEET, (link) => {
      if (!link.includes('materialdesignicons')) return '';
      icons = true;
      return LOCAL_ICONS;
    })
    .replace('<script ', '<script src="connect-defaults.js"></script><script ');
  if (!icons || /https?:\/\//.test(page) || !page.includes('connect-defaults.js'))
    throw new Error(
      "@socket.io/admin-ui's ui/dist/index.html is not the page src/admin/admin-ui-files.ts rewrites",
    );
  return page;
}
