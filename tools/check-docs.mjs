#!/usr/bin/env node
/**
 * `node tools/check-docs.mjs [file.md…]`: keeps the README and docs/ true to the tree.
 * With no argument it reads README.md and every docs/**\/*.md, and fails (exit 1, one
 * `file:line` per problem) on:
 * - a backticked repository path (`src/…`, `test/…`, `docker/…`, a root file such as
 *   `package.json`…) that does not exist; a build output path (`dist/cli/token.js`,
 *   `dist-tools/tools/start-cluster.js`) whose source does not exist. Globs and
 *   `<placeholders>` are skipped; a command in backticks has each of its words checked;
 * - a relative Markdown link, or its `#anchor`, that leads nowhere;
 * - a backticked call, `name()` or `Class.method()`, whose names no file under src/,
 *   client/src/, tools/, bench/ or test/ defines or mentions.
 * Fenced code blocks are examples, not references: they are not checked.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SELF = fileURLToPath(import.meta.url);

const PATH_PREFIXES = [
  'src/',
  'client/',
  'test/',
  'tools/',
  'bench/',
  'docker/',
  'deploy/',
  'docs/',
  'public/',
  '.ci/',
];
const ROOT_FILES = new Set([
  'README.md',
  'package.json',
  'package-lock.json',
  '.env.example',
  'nest-cli.json',
  'jest.config.js',
  'eslint.config.js',
  '.prettierrc.json',
  '.prettierignore',
  '.dependency-cruiser.cjs',
  '.dockerignore',
  '.gitignore',
]);
/** Build output and the source folder each is compiled from. */
const OUTPUTS = [
  { prefix: 'dist/', source: 'src/' },
  { prefix: 'dist-tools/', source: '' },
];
const SOURCE_DIRS = ['src', 'client/src', 'tools', 'bench', 'test'];
const SOURCE_EXTENSIONS = new Set(['.ts', '.tsx', '.js', '.mjs', '.cjs', '.html']);

function walk(dir, keep, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, keep, out);
    else if (keep(path)) out.push(path);
  }
  return out;
}

/** Every word that appears in a source file: what "defines or mentions" is checked against. */
function sourceWords() {
  const words = new Set();
  for (const dir of SOURCE_DIRS) {
    const files = walk(join(ROOT, dir), (p) => SOURCE_EXTENSIONS.has(extname(p)) && p !== SELF);
    for (const file of files)
      for (const word of readFileSync(file, 'utf8').match(/[A-Za-z_$][\w$]*/g) ?? [])
        words.add(word);
  }
  return words;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading) {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

const anchorCache = new Map();
function anchorsOf(file) {
  if (!anchorCache.has(file)) {
    const anchors = new Set();
    const seen = new Map();
    let fenced = false;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
      const heading = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
      if (!heading) continue;
      const base = slug(heading[1]);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    anchorCache.set(file, anchors);
  }
  return anchorCache.get(file);
}

const isPlaceholder = (word) => /[*?{}[\]<>…]|\.\.\./.test(word);

/** The repository paths a code span names, each word of a command taken on its own. */
function pathsIn(span) {
  return span
    .split(/\s+/)
    .map((word) => word.replace(/^.*=/, '').replace(/^[("']+|[)"',;:.]+$/g, ''))
    .map((word) => word.replace(/#.*$/, ''))
    .filter((word) => word && !isPlaceholder(word))
    .filter(
      (word) =>
        PATH_PREFIXES.some((p) => word.startsWith(p)) ||
        ROOT_FILES.has(word) ||
        /^tsconfig[\w.-]*\.json$/.test(word) ||
        /^dist[\w-]*\//.test(word),
    );
}

function checkPath(path) {
  if (/^dist[\w-]*\//.test(path)) {
    const output = OUTPUTS.find((o) => path.startsWith(o.prefix));
    if (!output) return `build output folder ${path.split('/')[0]}/ does not exist`;
    const rest = path.slice(output.prefix.length);
    if (rest === '' || rest.endsWith('/'))
      return existsSync(join(ROOT, output.source, rest)) ? undefined : `no source for ${path}`;
    const source = output.source + rest.replace(/\.js$/, '');
    const found = ['.ts', '.mts', '.js', '.mjs'].some((ext) =>
      existsSync(join(ROOT, source + ext)),
    );
    return found ? undefined : `${path} is built from ${source}.ts, which does not exist`;
  }
  const full = join(ROOT, path);
  if (!existsSync(full)) return `${path} does not exist`;
  if (path.endsWith('/') && !statSync(full).isDirectory()) return `${path} is not a folder`;
  return undefined;
}

const CALL = /^((?:[A-Za-z_$][\w$]*\.)*[A-Za-z_$][\w$]*)\(([^()]*)\)$/;

function checkFile(file, words, problems) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const where = (i) => `${relative(process.cwd(), file) || file}:${i + 1}`;
  const counts = { paths: 0, links: 0, calls: 0 };
  let fenced = false;
  lines.forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    const spans = [...line.matchAll(/(`+)(.+?)\1/g)].map((m) => m[2].trim());
    for (const span of spans) {
      for (const path of pathsIn(span)) {
        counts.paths++;
        const problem = checkPath(path);
        if (problem) problems.push(`${where(i)}: ${problem}`);
      }
      const call = CALL.exec(span);
      if (call) {
        counts.calls++;
        const missing = call[1].split('.').filter((name) => !words.has(name));
        if (missing.length > 0)
          problems.push(
            `${where(i)}: ${span}: no source defines or mentions ${missing.join(', ')}`,
          );
      }
    }
    // Links outside code spans: [text](target) and ![alt](target).
    const prose = line.replace(/(`+).+?\1/g, '');
    for (const match of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1];
      if (/^[a-z][a-z+.-]*:/i.test(target)) continue;
      counts.links++;
      const [pathPart, anchor] = target.split('#');
      const dest = pathPart ? resolve(dirname(file), decodeURIComponent(pathPart)) : file;
      if (!existsSync(dest)) {
        problems.push(`${where(i)}: link ${target}: ${relative(ROOT, dest)} does not exist`);
        continue;
      }
      if (anchor && dest.endsWith('.md') && !anchorsOf(dest).has(anchor))
        problems.push(
          `${where(i)}: link ${target}: no heading #${anchor} in ${relative(ROOT, dest)}`,
        );
    }
  });
  return counts;
}

const args = process.argv.slice(2);
if (args.includes('--help')) {
  process.stdout.write(
    'usage: node tools/check-docs.mjs [file.md…]  (default: README.md, docs/**/*.md)\n',
  );
  process.exit(0);
}
const files = args.length
  ? args.map((f) => resolve(f))
  : [join(ROOT, 'README.md'), ...walk(join(ROOT, 'docs'), (p) => p.endsWith('.md')).sort()];
const words = sourceWords();
const problems = [];
const totals = { paths: 0, links: 0, calls: 0 };
for (const file of files) {
  const counts = checkFile(file, words, problems);
  for (const key of Object.keys(totals)) totals[key] += counts[key];
}
if (problems.length > 0) {
  process.stderr.write(`${problems.join('\n')}\n`);
  process.stderr.write(`check-docs: ${problems.length} reference(s) lead nowhere\n`);
  process.exit(1);
}
process.stdout.write(
  `check-docs: ${files.length} files, ${totals.paths} paths, ${totals.links} links, ${totals.calls} calls: all found\n`,
);
