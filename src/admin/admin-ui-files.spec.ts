import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { localPage } from './admin-ui-files.js';

const installedPage = (): string =>
  readFileSync(
    join(
      dirname(createRequire(import.meta.url).resolve('@socket.io/admin-ui/package.json')),
      'ui/dist/index.html',
    ),
    'utf8',
  );

describe('localPage, on the installed admin UI page', () => {
  it('loads nothing from another site, the icons from here, the defaults first', () => {
    const page = localPage(installedPage());
    expect(page).not.toMatch(/https?:\/\//);
    expect(page).toContain('href="mdi/css/materialdesignicons.min.css"');
    expect(page.indexOf('<script src="connect-defaults.js">')).toBeLessThan(
      page.indexOf('<script src="js/'),
    );
  });

  it('fails loudly on a page it does not know', () => {
    expect(() => localPage('<html><script src="app.js"></script></html>')).toThrow(/not the page/);
  });
});
