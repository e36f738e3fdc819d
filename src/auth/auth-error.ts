/** Why a token was refused; sent to the client as `data.reason`, never with the token. */
export type AuthFailureReason =
  | 'missing_token'
  | 'malformed_token'
  | 'unsupported_algorithm'
  | 'invalid_signature'
  | 'token_expired'
  | 'invalid_claims'
  | 'key_unavailable';

export class AuthError extends Error {
  constructor(readonly reason: AuthFailureReason) {
    super(`unauthorized: ${reason}`);
    this.name = 'AuthError';
  }
}
