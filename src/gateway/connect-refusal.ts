import type { AuthFailureReason } from '../auth/auth-error.js';

/**
 * What a refused handshake carries as `connect_error`'s `err.data`: the namespace middleware
 * answers with these, and clients switch on `code`.
 */
export type ConnectRefusal =
  | { readonly code: 'UNAUTHORIZED'; readonly reason: AuthFailureReason }
  | { readonly code: 'TOO_MANY_CONNECTIONS'; readonly reason: 'too_many_connections' }
  | { readonly code: 'INVALID_NAMESPACE'; readonly reason: 'no_gateway' };

export type ConnectRefusalCode = ConnectRefusal['code'];
