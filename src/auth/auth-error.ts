/** Why a token was refused; sent to the client as `data.reason`, never with the token. */
export const AUTH_FAILURE_REASONS = [
  'missing_token',
  'malformed_token',
  'unsupported_algorithm',
  'invalid_signature',
  'token_expired',
  'invalid_claims',
  'key_unavailable',
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export class AuthError extends Error {
  constructor(readonly reason: AuthFailureReason) {
    super(`unauthorized: ${reason}`);
    this.name = 'AuthError';
  }
}
