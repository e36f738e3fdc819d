import type { IncomingMessage } from 'node:http';

/** The subprotocol a browser sends first when it carries the token in `Sec-WebSocket-Protocol`. */
export const TOKEN_SUBPROTOCOL = 'access_token';
/** The query parameter that may carry the token (it ends up in proxy logs: prefer `auth`). */
export const TOKEN_QUERY_PARAMETER = 'access_token';

/** The token from the socket.io client's `auth: { token }` option, if any. */
export function tokenFromAuth(auth: unknown): string | undefined {
  if (auth === null || typeof auth !== 'object' || !('token' in auth)) return undefined;
  const { token } = auth;
  return typeof token === 'string' ? token : token === undefined ? undefined : '';
}

/**
 * The token carried by the HTTP request itself: `Authorization: Bearer`, then the
 * `access_token, <jwt>` subprotocol pair, then the `access_token` query parameter. Other
 * `Authorization` schemes (a browser's Basic credentials for the site) are not ours: ignored.
 */
export function tokenFromRequest(req: IncomingMessage): string | undefined {
  const bearer = /^Bearer(?:\s+(.*))?$/i.exec(req.headers.authorization ?? '');
  if (bearer) return (bearer[1] ?? '').trim();
  const protocols = req.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string') {
    const [first, second] = protocols.split(',').map((item) => item.trim());
    if (first === TOKEN_SUBPROTOCOL) return second ?? '';
  }
  const queryStart = req.url?.indexOf('?') ?? -1;
  if (queryStart >= 0 && req.url!.includes(`${TOKEN_QUERY_PARAMETER}=`, queryStart)) {
    const query = new URLSearchParams(req.url!.slice(queryStart + 1));
    return query.get(TOKEN_QUERY_PARAMETER) ?? undefined;
  }
  return undefined;
}
