/**
 * What `npm ci` installs, checked from package.json and the lockfile: every package runs on
 * the Node version the README promises, every install script in the tree has been decided
 * on (npm's `allowScripts`), and the pinned `file-type` still does its job in NestJS.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FileTypeValidator } from '@nestjs/common';

interface LockEntry {
  readonly version?: string;
  readonly engines?: { readonly node?: string };
  readonly hasInstallScript?: boolean;
}
interface Manifest {
  readonly engines: { readonly node: string };
  readonly allowScripts?: Record<string, boolean>;
}

const read = <T>(file: string) =>
  JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')) as T;
const manifest = read<Manifest>('package.json');
const lock = read<{ packages: Record<string, LockEntry> }>('package-lock.json');
const installed = Object.entries(lock.packages).filter(([path]) =>
  path.startsWith('node_modules/'),
);
const nameOf = (path: string) => path.slice(path.lastIndexOf('node_modules/') + 13);

// npm's range logic, in the tree through jest and others; typed here for the two calls.
const semver = createRequire(import.meta.url)('semver') as {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string };
};

it('every installed package supports the oldest Node the project supports (no EBADENGINE)', () => {
  const floor = semver.minVersion(manifest.engines.node).version;
  const refusing = installed
    .filter(([, entry]) => entry.engines?.node && !semver.satisfies(floor, entry.engines.node))
    .map(([path, entry]) => `${nameOf(path)}@${entry.version} needs node ${entry.engines?.node}`);
  expect({ floor, refusing }).toEqual({ floor, refusing: [] });
});

it('every dependency with an install script is allowed or denied in allowScripts', () => {
  const undecided = installed
    .filter(([, entry]) => entry.hasInstallScript)
    .map(([path]) => nameOf(path))
    .filter((name) => typeof manifest.allowScripts?.[name] !== 'boolean');
  expect(undecided).toEqual([]);
});

it("@nestjs/common's FileTypeValidator still detects a file's type with the pinned file-type", async () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  const validator = new FileTypeValidator({ fileType: 'image/png' });
  const file = (buffer: Buffer) => ({ mimetype: 'image/png', size: buffer.length, buffer });
  expect(await validator.isValid(file(png))).toBe(true);
  expect(await validator.isValid(file(Buffer.from('not a png at all, just text')))).toBe(false);
});
