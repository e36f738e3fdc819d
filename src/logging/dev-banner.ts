export interface DevBannerFacts {
  /** Where the server listens, as a browser on this machine opens it. */
  readonly url: string;
  readonly drainMs: number;
  /** The kept development secret's file, when the server signs with it. */
  readonly devSecretFile?: string;
}

/**
 * The few lines a developer needs after `npm start`, in plain text rather than a log line:
 * where to point the browser, how to get a token for another client, how to stop.
 */
export function devBanner({ url, drainMs, devSecretFile }: DevBannerFacts): string {
  const lines = ['', '  Development server ready', `    Demo page   ${url}/`];
  if (devSecretFile) {
    lines.push(
      '    A token     npm run token -- --sub alice --name Alice',
      `                (signed with the development secret kept in ${devSecretFile})`,
    );
  }
  lines.push(
    `    Stop        Ctrl-C (drains up to ${Number((drainMs / 1000).toFixed(1))} s; Ctrl-C again exits at once)`,
    '',
  );
  return `${lines.join('\n')}\n`;
}

/** `http://0.0.0.0:3000` is not an address to open: a wildcard host becomes localhost. */
export function browserUrl(host: string, port: number): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  const shown = wildcard ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}
