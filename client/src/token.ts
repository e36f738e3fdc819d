import type { AuthFailureReason } from './contract.js';

/** Gives the token for the next connection attempt: a cached one, or a fresh one when needed. */
export type GetToken = () => string | Promise<string>;

/** Refusals that a new token from the same issuer cures (an expiry, or a rotated key). */
export const RENEWABLE_REASONS: ReadonlySet<AuthFailureReason> = new Set<AuthFailureReason>([
  'token_expired',
  'invalid_signature',
]);

/** Within this much of `exp` a token counts as expired: the client's clock may lag. */
const EXPIRY_SLACK_MS = 10_000;

/**
 * socket.io's `auth` as a function: socket.io calls it before every connection attempt, the
 * first and each reconnection, so every attempt carries what `getToken` gives then. When
 * `getToken` throws or rejects, `failed` is told and the attempt is not sent.
 */
export class TokenAuth {
  /** The token of the last attempt. */
  private lastSent: string | undefined;

  constructor(
    private readonly getToken: GetToken,
    private readonly failed: (error: unknown) => void,
  ) {}

  get sent(): string | undefined {
    return this.lastSent;
  }

  readonly auth = (send: (data: { token: string }) => void): void => {
    let token: string | Promise<string>;
    try {
      token = this.getToken();
    } catch (error) {
      this.failed(error);
      return;
    }
    Promise.resolve(token).then(
      (fresh) => {
        if (typeof fresh !== 'string' || fresh === '')
          return this.failed(new TypeError('getToken gave no token'));
        this.lastSent = fresh;
        send({ token: fresh });
      },
      (error: unknown) => this.failed(error),
    );
  };
}

/** Whether a JWT's `exp` has passed (read without verifying: the server verifies). */
export function isExpired(token: string, now = Date.now()): boolean {
  const expiresAt = expiryOf(token);
  return expiresAt !== undefined && expiresAt <= now + EXPIRY_SLACK_MS;
}

/** A JWT's `exp` in ms, if it has a readable one. */
export function expiryOf(token: string): number | undefined {
  const payload = token.split('.')[1];
  const json = payload === undefined ? undefined : base64UrlToBinary(payload);
  if (json === undefined) return undefined;
  try {
    const { exp } = JSON.parse(json) as { exp?: unknown };
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** `atob` for base64url, which React Native lacks; UTF-8 stays as bytes (only `exp` is read). */
function base64UrlToBinary(input: string): string | undefined {
  let value = 0;
  let bits = 0;
  let out = '';
  for (const char of input.replace(/=+$/, '')) {
    const index = ALPHABET.indexOf(char === '+' ? '-' : char === '/' ? '_' : char);
    if (index < 0) return undefined;
    value = ((value << 6) | index) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((value >> bits) & 0xff);
    }
  }
  return out;
}
