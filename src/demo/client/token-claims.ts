export interface TokenClaims {
  readonly sub: string;
  readonly name: string;
  /** Expiry in ms since the epoch, when the token has one. */
  readonly expiresAt: number | undefined;
}

/**
 * Reads `sub`, `name` and `exp` from a JWT without verifying it: only to label the page's
 * own messages, to mint a new token for the same user and to tell an expiry from other
 * disconnects. The server verifies the token on the handshake.
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
    const { sub, name, exp } = claims as { sub?: unknown; name?: unknown; exp?: unknown };
    if (typeof sub !== 'string') return undefined;
    return {
      sub,
      name: typeof name === 'string' && name !== '' ? name : sub,
      expiresAt: typeof exp === 'number' ? exp * 1000 : undefined,
    };
  } catch {
    return undefined;
  }
}
