import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEV_SECRET_FILE, keptDevSecret, readDevSecret } from './dev-secret.js';

describe('keptDevSecret', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dev-secret-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates .jwt-dev-secret on first use, readable by its owner only', () => {
    const first = keptDevSecret(dir);
    expect(first).toMatchObject({ path: join(dir, DEV_SECRET_FILE), created: true });
    expect(first.secret.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(first.path, 'utf8').trim()).toBe(first.secret);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
  });

  it('gives the same secret on every later start', () => {
    const first = keptDevSecret(dir);
    const second = keptDevSecret(dir);
    expect(second).toEqual({ ...first, created: false });
  });

  it('refuses a file that holds no usable secret, saying what to do', () => {
    writeFileSync(join(dir, DEV_SECRET_FILE), 'short\n');
    expect(() => keptDevSecret(dir)).toThrow(/at least 32 characters: delete it/);
  });

  it('readDevSecret reads the kept secret and never creates one', () => {
    expect(readDevSecret(dir)).toBeUndefined();
    const kept = keptDevSecret(dir);
    expect(readDevSecret(dir)).toEqual({ ...kept, created: false });
  });
});
