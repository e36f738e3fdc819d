import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyEnvFile } from './env-file.js';

describe('applyEnvFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'env-file-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('fills in what the environment does not have from .env', () => {
    writeFileSync(join(dir, '.env'), '# a comment\nPORT=4100\nLOG_LEVEL="debug"\n');
    const env: NodeJS.ProcessEnv = {};
    expect(applyEnvFile(env, dir)).toBe(join(dir, '.env'));
    expect(env).toEqual({ PORT: '4100', LOG_LEVEL: 'debug' });
  });

  it('lets the environment win, even with an empty value', () => {
    writeFileSync(join(dir, '.env'), 'PORT=4100\nHOST=127.0.0.1\n');
    const env: NodeJS.ProcessEnv = { PORT: '5200', HOST: '' };
    applyEnvFile(env, dir);
    expect(env).toEqual({ PORT: '5200', HOST: '' });
  });

  it('does nothing without a .env', () => {
    const env: NodeJS.ProcessEnv = { PORT: '5200' };
    expect(applyEnvFile(env, dir)).toBeUndefined();
    expect(env).toEqual({ PORT: '5200' });
  });
});
