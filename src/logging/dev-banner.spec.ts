import { browserUrl, devBanner } from './dev-banner.js';

describe('devBanner', () => {
  it('says where to point the browser, how to get a token and how to stop', () => {
    const text = devBanner({
      url: 'http://localhost:3000',
      drainMs: 1000,
      devSecretFile: '.jwt-dev-secret',
    });
    expect(text).toContain('http://localhost:3000/');
    expect(text).toContain('npm run token -- --sub alice --name Alice');
    expect(text).toContain('.jwt-dev-secret');
    expect(text).toMatch(/Ctrl-C \(drains up to 1 s; Ctrl-C again exits at once\)/);
  });

  it('offers no token command when the server does not sign with the kept secret', () => {
    expect(devBanner({ url: 'http://localhost:3000', drainMs: 1000 })).not.toContain(
      'npm run token',
    );
  });

  it('shows a wildcard host as localhost', () => {
    expect(browserUrl('0.0.0.0', 3000)).toBe('http://localhost:3000');
    expect(browserUrl('::', 3000)).toBe('http://localhost:3000');
    expect(browserUrl('127.0.0.1', 4000)).toBe('http://127.0.0.1:4000');
    expect(browserUrl('::1', 4000)).toBe('http://[::1]:4000');
  });
});
