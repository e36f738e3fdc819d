/** `redis://user:pass@host` → `redis://***@host`: a URL's credentials never reach a log. */
export function hideCredentials(url: string): string {
  return url.replace(/\/\/[^/@\s]*@/, '//***@');
}
