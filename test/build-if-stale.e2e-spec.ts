/**
 * `tools/build-if-stale.mjs`, which `npm start` and the CLIs run first: `npm run build`
 * only when a build input changed since the last build, on a throwaway project whose build
 * counts its runs.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../tools/build-if-stale.mjs', import.meta.url));
const BUILD = `node -e "const f=require('fs');f.mkdirSync('dist',{recursive:true});f.writeFileSync('dist/main.js','');f.appendFileSync('builds.log','x')"`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'build-if-stale-'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { build: BUILD } }));
  writeFileSync(join(dir, 'tsconfig.json'), '{}');
  mkdirSync(join(dir, 'src/deep'), { recursive: true });
  writeFileSync(join(dir, 'src/main.ts'), '');
  writeFileSync(join(dir, 'src/deep/other.ts'), '');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the script the way `npm start` does and says how many builds have run so far. */
function run(): number {
  const result = spawnSync(process.execPath, [SCRIPT], { cwd: dir, encoding: 'utf8' });
  expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
  return readFileSync(join(dir, 'builds.log'), 'utf8').length;
}

it('builds the first time, then only after a change to a source, a deletion or a tsconfig', () => {
  expect(run()).toBe(1);
  expect(run()).toBe(1);
  writeFileSync(join(dir, 'src/deep/other.ts'), 'export {};');
  expect(run()).toBe(2);
  expect(run()).toBe(2);
  rmSync(join(dir, 'src/deep/other.ts'));
  expect(run()).toBe(3);
  writeFileSync(join(dir, 'tsconfig.json'), '{ "compilerOptions": {} }');
  expect(run()).toBe(4);
  expect(run()).toBe(4);
});

it('builds again when the output is gone', () => {
  expect(run()).toBe(1);
  rmSync(join(dir, 'dist/main.js'));
  expect(run()).toBe(2);
});
