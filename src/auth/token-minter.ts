import { SignJWT } from 'jose';

export interface MintOptions {
  readonly secret: string;
  readonly sub: string;
  readonly name?: string;
  readonly ttlS?: number;
  readonly issuer?: string;
  readonly audience?: string;
  /** The `rooms` claim: patterns of the private rooms the user may enter. */
  readonly rooms?: readonly string[];
}

/** Signs an HS256 access token, for development and tests; production tokens come from your IdP. */
export function mintToken({
  secret,
  sub,
  name,
  ttlS = 3600,
  issuer,
  audience,
  rooms,
}: MintOptions): Promise<string> {
  const claims = {
    ...(name === undefined ? {} : { name }),
    ...(rooms === undefined ? {} : { rooms }),
  };
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlS);
  if (issuer !== undefined) jwt = jwt.setIssuer(issuer);
  if (audience !== undefined) jwt = jwt.setAudience(audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
