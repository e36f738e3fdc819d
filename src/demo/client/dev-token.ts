import type { Notification } from '../../notifications/notifications.events.js';

export interface DevToken {
  readonly token: string;
  readonly expiresInS: number;
}

/** What the page says when `/dev/*` answers 404: true for any server with a configured key. */
const NO_DEV_ROUTES =
  'this server has a configured JWT_SECRET (or JWKS) and mints no dev tokens; ' +
  'paste a token from "npm run token"';

/** The dev routes answered 404: the server verifies tokens with a configured key. */
export class DevRoutesUnavailable extends Error {
  constructor() {
    super(NO_DEV_ROUTES);
    this.name = 'DevRoutesUnavailable';
  }
}

/** Asks the server for a development token (`POST /dev/token`). */
export async function mintDevToken(sub: string, name: string): Promise<DevToken> {
  const body = await post('/dev/token', { sub, name });
  if (!isDevToken(body)) throw new Error('POST /dev/token answered an unexpected body');
  return body;
}

/** Has the server send a notification to the token's own user (`POST /dev/notify`). */
export async function sendDevNotification(token: string): Promise<Notification> {
  return (await post('/dev/notify', {}, token)) as Notification;
}

async function post(path: string, body: object, token?: string): Promise<unknown> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
  const response = await fetch(path, { method: 'POST', headers, body: JSON.stringify(body) });
  if (response.status === 404) throw new DevRoutesUnavailable();
  const answer: unknown = await response.json().catch(() => undefined);
  if (!response.ok)
    throw new Error(`POST ${path} answered HTTP ${response.status}${detail(answer)}`);
  return answer;
}

function detail(answer: unknown): string {
  if (typeof answer !== 'object' || answer === null) return '';
  const { reason, message } = answer as { reason?: unknown; message?: unknown };
  if (typeof reason === 'string') return ` (${reason})`;
  return typeof message === 'string' ? `: ${message}` : '';
}

function isDevToken(body: unknown): body is DevToken {
  if (typeof body !== 'object' || body === null) return false;
  const { token, expiresInS } = body as Partial<Record<keyof DevToken, unknown>>;
  return typeof token === 'string' && typeof expiresInS === 'number';
}
