import { Inject, Injectable } from '@nestjs/common';
import {
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AuthError, type AuthFailureReason } from './auth-error.js';
import type { AuthUser } from './auth-user.js';

const ASYMMETRIC_ALGORITHMS = ['RS256', 'ES256'];
const MAX_SUB_LENGTH = 256;
const MAX_NAME_LENGTH = 64;
const MAX_ROOM_PATTERN_LENGTH = 100;

/**
 * Verifies access tokens: HS256 against `JWT_SECRET`, RS256/ES256 against the keys of
 * `JWT_JWKS_URL`. The token's `alg` picks the key; any other algorithm (`none` included) is
 * refused before a signature is looked at.
 */
@Injectable()
export class TokenVerifier {
  private readonly secretKey: Uint8Array | undefined;
  private readonly jwks: JWTVerifyGetKey | undefined;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const { secret, jwksUrl } = config.auth;
    this.secretKey = secret === undefined ? undefined : new TextEncoder().encode(secret);
    // jose caches the key set and refetches it at most every 30 s on an unknown `kid`.
    this.jwks =
      jwksUrl === undefined
        ? undefined
        : createRemoteJWKSet(new URL(jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000 });
  }

  async verify(token: string): Promise<AuthUser> {
    const { alg } = this.header(token);
    const { issuer, audience } = this.config.auth;
    const options = { issuer, audience, requiredClaims: ['sub', 'exp'] };
    let payload: JWTPayload;
    try {
      if (alg === 'HS256' && this.secretKey) {
        ({ payload } = await jwtVerify(token, this.secretKey, {
          ...options,
          algorithms: ['HS256'],
        }));
      } else if (alg !== undefined && ASYMMETRIC_ALGORITHMS.includes(alg) && this.jwks) {
        ({ payload } = await jwtVerify(token, this.jwks, {
          ...options,
          algorithms: ASYMMETRIC_ALGORITHMS,
        }));
      } else {
        throw new AuthError('unsupported_algorithm');
      }
    } catch (error) {
      throw error instanceof AuthError ? error : new AuthError(reasonOf(error));
    }
    return toUser(payload);
  }

  private header(token: string): { alg: string | undefined } {
    try {
      return { alg: decodeProtectedHeader(token).alg };
    } catch {
      throw new AuthError('malformed_token');
    }
  }
}

function toUser(payload: JWTPayload): AuthUser {
  const { sub, exp, name, rooms } = payload;
  const validSub = typeof sub === 'string' && sub.length > 0 && sub.length <= MAX_SUB_LENGTH;
  if (
    !validSub ||
    typeof exp !== 'number' ||
    (name !== undefined && typeof name !== 'string') ||
    (rooms !== undefined && !isRoomPatterns(rooms))
  ) {
    throw new AuthError('invalid_claims');
  }
  const displayName = typeof name === 'string' && name.trim() !== '' ? name.trim() : sub;
  const user = { id: sub, name: displayName.slice(0, MAX_NAME_LENGTH), expiresAt: exp * 1000 };
  // Frozen: room access caches what it derives from this array for the socket's lifetime.
  return rooms === undefined ? user : { ...user, rooms: Object.freeze([...rooms]) };
}

function isRoomPatterns(claim: unknown): claim is string[] {
  return (
    Array.isArray(claim) &&
    claim.every(
      (pattern) =>
        typeof pattern === 'string' &&
        pattern.length > 0 &&
        pattern.length <= MAX_ROOM_PATTERN_LENGTH,
    )
  );
}

function reasonOf(error: unknown): AuthFailureReason {
  if (error instanceof errors.JWTExpired) return 'token_expired';
  if (error instanceof errors.JWTClaimValidationFailed) return 'invalid_claims';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'invalid_signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'invalid_signature';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'unsupported_algorithm';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'malformed_token';
  // What is left is about the keys, not the token: the JWKS endpoint timed out, answered
  // with an error status or bad JSON (a plain JOSEError), or could not be reached at all.
  return 'key_unavailable';
}
