/** A parser turns a raw environment string into a typed value, or explains what it expected. */
export type EnvParser<T> = (
  raw: string,
) => { ok: true; value: T } | { ok: false; expected: string };

export const integer =
  (min: number, max: number): EnvParser<number> =>
  (raw) => {
    const value = Number(raw);
    return /^-?\d+$/.test(raw.trim()) && value >= min && value <= max
      ? { ok: true, value }
      : { ok: false, expected: `an integer from ${min} to ${max}` };
  };

export const oneOf =
  <const T extends string>(...choices: T[]): EnvParser<T> =>
  (raw) =>
    (choices as string[]).includes(raw)
      ? { ok: true, value: raw as T }
      : { ok: false, expected: `one of ${choices.join(', ')}` };

export const text =
  (minLength = 1): EnvParser<string> =>
  (raw) =>
    raw.length >= minLength
      ? { ok: true, value: raw }
      : { ok: false, expected: `at least ${minLength} characters` };

export const url =
  (...protocols: string[]): EnvParser<string> =>
  (raw) => {
    try {
      const parsed = new URL(raw);
      if (protocols.includes(parsed.protocol)) return { ok: true, value: raw };
    } catch {
      // falls through to the explanation below
    }
    return {
      ok: false,
      expected: `a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    };
  };

/** A bcrypt hash, as `htpasswd -nbB` or `npx bcryptjs` print it (`$2a$`, `$2b$` or `$2y$`). */
export const bcryptHash: EnvParser<string> = (raw) =>
  /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(raw)
    ? { ok: true, value: raw }
    : { ok: false, expected: 'a bcrypt hash ($2b$10$ and 53 more characters)' };

/** One Redis URL, or several comma-separated ones: the seed nodes of a Redis Cluster. */
export const redisUrls: EnvParser<readonly string[]> = (raw) => {
  const urls = raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  const single = url('redis:', 'rediss:');
  return urls.length > 0 && urls.every((item) => single(item).ok)
    ? { ok: true, value: Object.freeze(urls) }
    : {
        ok: false,
        expected:
          'redis://host:port, or comma-separated redis:// URLs of Redis Cluster nodes (rediss:// for TLS)',
      };
};

export const originList: EnvParser<readonly string[]> = (raw) => {
  const origins = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin.length > 0);
  const bad = origins.find((origin) => origin !== '*' && !isOrigin(origin));
  return origins.length > 0 && bad === undefined
    ? // Browsers send `Origin` without a trailing slash: store what they send.
      { ok: true, value: Object.freeze(origins.map((o) => (o === '*' ? o : new URL(o).origin))) }
    : {
        ok: false,
        expected: `a comma-separated list of origins like https://app.example.com (scheme://host[:port], no path)${bad ? `; "${bad}" is not one` : ''}`,
      };
};

function isOrigin(candidate: string): boolean {
  try {
    const parsed = new URL(candidate);
    return (
      (parsed.protocol === 'http:' || parsed.protocol === 'https:') &&
      parsed.origin === candidate.replace(/\/$/, '')
    );
  } catch {
    return false;
  }
}

export const transportList: EnvParser<readonly ('websocket' | 'polling')[]> = (raw) => {
  const items = raw.split(',').map((item) => item.trim());
  const transports = items.filter((item) => item === 'websocket' || item === 'polling');
  return transports.length === items.length && new Set(items).size === items.length
    ? { ok: true, value: Object.freeze(transports) }
    : { ok: false, expected: '"websocket,polling" or "websocket" (or "polling")' };
};
