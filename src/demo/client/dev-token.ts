export interface DevToken {
  readonly token: string;
  readonly expiresInS: number;
}

export interface TokenClaims {
  readonly sub: string;
  readonly name: string;
}

/** Asks the server for a development token (`POST /dev/token`, refused in production). */
export async function mintDevToken(sub: string, name: string): Promise<DevToken> {
  const response = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sub, name }),
  });
  if (response.status === 404)
    throw new Error('this server does not mint dev tokens (production mode)');
  if (!response.ok) throw new Error(`POST /dev/token answered HTTP ${response.status}`);
  const body: unknown = await response.json();
  if (!isDevToken(body)) throw new Error('POST /dev/token answered an unexpected body');
  return body;
}

/**
 * Reads `sub` and `name` from a JWT without verifying it: only to label the page's own
 * messages. The server verifies the token on the handshake.
 */
export function readClaims(token: string): TokenClaims | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))),
    ) as unknown;
    if (typeof claims !== 'object' || claims === null) return undefined;
    const { sub, name } = claims as { sub?: unknown; name?: unknown };
    if (typeof sub !== 'string') return undefined;
    return { sub, name: typeof name === 'string' && name !== '' ? name : sub };
  } catch {
    return undefined;
  }
}

function isDevToken(body: unknown): body is DevToken {
  if (typeof body !== 'object' || body === null) return false;
  const { token, expiresInS } = body as Partial<Record<keyof DevToken, unknown>>;
  return typeof token === 'string' && typeof expiresInS === 'number';
}
