/** The authenticated user behind a socket, taken from the access token's claims. */
export interface AuthUser {
  readonly id: string;
  readonly name: string;
  /** Token expiry, in ms since the epoch. */
  readonly expiresAt: number;
}
