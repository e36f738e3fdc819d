/**
 * The load-balancer configs in `docker/` name their instances `app-1:3000`, `app-2:3000`, …
 * and listen on the container's port. To run the same file outside Docker (`npm run
 * start:cluster`, the tests), only those are replaced: the `listen`/`bind` address and the
 * upstream servers (whose nginx `resolve` parameter goes for IP addresses). Everything else,
 * stickiness, timeouts, retries, is the shipped file.
 */

export interface BalancerTargets {
  /** Where the balancer listens, `host:port`. */
  readonly listen: string;
  /** The app instances, `host:port` each; as many as wanted. */
  readonly upstreams: readonly string[];
}

const NGINX_LISTEN = /^([ \t]*)listen[ \t]+80;[ \t]*$/m;
const NGINX_SERVER = /^([ \t]*)server[ \t]+app-\d+:3000\b[^\n;]*;[ \t]*$/gm;
const IP_ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\]):\d+$/;
const HAPROXY_BIND = /^([ \t]*)bind[ \t]+:8080[ \t]*$/m;
const HAPROXY_SERVER = /^([ \t]*)server[ \t]+app-\d+[ \t]+app-\d+:3000\b[^\n]*$/gm;

/** `docker/nginx.conf` with its `listen 80;` and `server app-N:3000 …;` lines replaced. */
export function renderNginxConfig(template: string, targets: BalancerTargets): string {
  const listened = replaceOnce(template, NGINX_LISTEN, `listen ${targets.listen};`, 'listen 80;');
  return replaceServers(listened, NGINX_SERVER, targets.upstreams, (line, address) => {
    const server = line.replace(/app-\d+:3000/, address);
    // `resolve` re-resolves a name through Docker's DNS; an IP address has nothing to resolve
    // (and nginx before 1.27.3 does not know the parameter).
    return IP_ADDRESS.test(address) ? server.replace(/[ \t]+resolve\b/, '') : server;
  });
}

/** `docker/haproxy.cfg` with its `bind :8080` and `server app-N app-N:3000 …` lines replaced. */
export function renderHaproxyConfig(template: string, targets: BalancerTargets): string {
  const bound = replaceOnce(template, HAPROXY_BIND, `bind ${targets.listen}`, 'bind :8080');
  return replaceServers(bound, HAPROXY_SERVER, targets.upstreams, (line, address, i) =>
    line.replace(/app-\d+:3000/, address).replace(/\bapp-\d+\b/g, `app-${i}`),
  );
}

function replaceOnce(text: string, pattern: RegExp, replacement: string, what: string): string {
  const match = pattern.exec(text);
  if (!match) throw new Error(`the config has no "${what}" line to replace`);
  return text.replace(pattern, `${match[1]}${replacement}`);
}

/**
 * Replaces the block of `server` lines with one line per address, each made from the first
 * line of the block (same parameters), numbered from 1.
 */
function replaceServers(
  text: string,
  pattern: RegExp,
  addresses: readonly string[],
  fromFirst: (line: string, address: string, index: number) => string,
): string {
  const lines = [...text.matchAll(pattern)];
  if (lines.length === 0) throw new Error('the config has no app-N:3000 server lines to replace');
  if (addresses.length === 0) throw new Error('at least one upstream address is needed');
  const block = addresses.map((address, i) => fromFirst(lines[0][0], address, i + 1)).join('\n');
  // The block goes where the first line was; the other lines go, with their line ends.
  let out = text.slice(0, lines[0].index) + block;
  let from = lines[0].index + lines[0][0].length;
  for (const line of lines.slice(1)) {
    out += text.slice(from, line.index);
    from = line.index + line[0].length;
    if (text[from] === '\n') from += 1;
  }
  return out + text.slice(from);
}
