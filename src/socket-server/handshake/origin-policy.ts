/** The one reading of `CORS_ORIGINS`: an exact list of origins, or `*` for any. */
export function isAllowedOrigin(origin: string, allowed: readonly string[]): boolean {
  return allowed.includes('*') || allowed.includes(origin);
}

/** The `origin` option of the `cors` package (Express and Socket.IO) for `CORS_ORIGINS`. */
export function corsOrigin(allowed: readonly string[]): true | string[] {
  return allowed.includes('*') ? true : [...allowed];
}
