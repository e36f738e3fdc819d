/** The authenticated user behind a socket, taken from the access token's claims. */
export interface AuthUser {
  readonly id: string;
  readonly name: string;
  /** Token expiry, in ms since the epoch. */
  readonly expiresAt: number;
  /**
   * The token's `rooms` claim: room name patterns (`*` is a wildcard), e.g.
   * `["private:team-*"]`. Absent when the token has no such claim.
   */
  readonly rooms?: readonly string[];
}
