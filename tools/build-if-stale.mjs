// Runs `npm run build` (or the script named) only when an input changed since its last build.
// `tsc -p` needs seconds even when there is nothing to emit (it loads and checks every type
// first), so `npm start` and `npm run token` would pay them on every run. A stamp in dist
// records when the last build started; any input newer than it (or a folder whose entries
// changed: its mtime moves on a delete or rename) means build again.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// `build` (the app, into dist) by default, or `build:tools` (tools and bench, into dist-tools).
const TARGETS = {
  build: {
    out: 'dist',
    entry: 'dist/main.js',
    inputs: ['src', 'client/src', 'client/tsconfig.build.json'],
  },
  'build:tools': {
    out: 'dist-tools',
    entry: 'dist-tools/tools/start-cluster.js',
    inputs: ['src', 'tools', 'bench'],
  },
};
const script = process.argv[2] ?? 'build';
const target = TARGETS[script];
if (!target) {
  process.stderr.write(
    `usage: node tools/build-if-stale.mjs [${Object.keys(TARGETS).join('|')}]\n`,
  );
  process.exit(2);
}
const STAMP = join(target.out, '.build-stamp');
const INPUTS = [
  ...target.inputs,
  'package-lock.json',
  ...readdirSync('.').filter((name) => /^tsconfig.*\.json$/.test(name)),
];

function newestChange(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce(
    (newest, entry) => Math.max(newest, newestChange(join(path, entry))),
    stat.mtimeMs,
  );
}

// Whole milliseconds: the stamp is set from a Date, and a file written in the same
// millisecond just before the build started is not newer than it.
const built = Math.floor(statSync(STAMP, { throwIfNoEntry: false })?.mtimeMs ?? 0);
const stale =
  !statSync(target.entry, { throwIfNoEntry: false }) ||
  INPUTS.some((input) => Math.floor(newestChange(input)) > built);

if (stale) {
  const startedAt = new Date();
  // Through npm, so `build` keeps its one definition in package.json. Its output goes to
  // stderr: `npm run -s token` prints the token alone on stdout.
  const npm = process.env.npm_execpath;
  const args = ['run', script, '--silent'];
  const result = spawnSync(npm ? process.execPath : 'npm', npm ? [npm, ...args] : args, {
    stdio: ['inherit', process.stderr, 'inherit'],
    shell: !npm && process.platform === 'win32',
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
  writeFileSync(STAMP, '');
  utimesSync(STAMP, startedAt, startedAt);
}
