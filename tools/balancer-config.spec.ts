import { readFileSync } from 'node:fs';
import { renderHaproxyConfig, renderNginxConfig } from './balancer-config.js';

const shipped = (name: string): string =>
  readFileSync(new URL(`../docker/${name}`, import.meta.url), 'utf8');

describe('rendering the shipped load-balancer configs for other addresses', () => {
  const targets = { listen: '127.0.0.1:8080', upstreams: ['127.0.0.1:3001', '127.0.0.1:3002'] };

  it('nginx: only the listen line and the upstream servers change', () => {
    const template = shipped('nginx.conf');
    const rendered = renderNginxConfig(template, targets);
    expect(rendered).toContain('    listen 127.0.0.1:8080;\n');
    expect(rendered).toContain(
      '    server 127.0.0.1:3001 max_fails=1 fail_timeout=5s;\n' +
        '    server 127.0.0.1:3002 max_fails=1 fail_timeout=5s;\n  }',
    );
    // A host name keeps `resolve` (looked up again as it changes).
    expect(renderNginxConfig(template, { ...targets, upstreams: ['app.internal:3000'] })).toContain(
      '    server app.internal:3000 max_fails=1 fail_timeout=5s resolve;\n',
    );
    expect(rendered).not.toMatch(/app-\d/);
    // Every other line is the shipped file's.
    const kept = (text: string) =>
      text.split('\n').filter((line) => !/^\s*(listen|server) /.test(line));
    expect(kept(rendered)).toEqual(kept(template));
  });

  it('haproxy: only the bind line and the servers change; names and cookies follow', () => {
    const template = shipped('haproxy.cfg');
    const rendered = renderHaproxyConfig(template, {
      ...targets,
      upstreams: [...targets.upstreams, '127.0.0.1:3003', '127.0.0.1:3004'],
    });
    expect(rendered).toContain('  bind 127.0.0.1:8080\n');
    expect(rendered).toContain(
      '  server app-1 127.0.0.1:3001 cookie app-1\n' +
        '  server app-2 127.0.0.1:3002 cookie app-2\n' +
        '  server app-3 127.0.0.1:3003 cookie app-3\n' +
        '  server app-4 127.0.0.1:3004 cookie app-4\n',
    );
    const kept = (text: string) =>
      text.split('\n').filter((line) => !/^\s*(bind|server) /.test(line));
    expect(kept(rendered)).toEqual(kept(template));
  });

  it('a config without the lines to replace is an error, not a silent copy', () => {
    expect(() => renderNginxConfig('events {}\n', targets)).toThrow(/listen 80/);
    expect(() => renderHaproxyConfig('bind :8080\n', targets)).toThrow(/server lines/);
    expect(() => renderNginxConfig(shipped('nginx.conf'), { ...targets, upstreams: [] })).toThrow(
      /at least one/,
    );
  });
});
