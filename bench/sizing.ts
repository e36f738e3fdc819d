/**
 * `node dist-tools/bench/sizing.js <bench.json>…`
 *
 * Reads `npm run bench -- --json` output and prints the per-unit costs that docs/sizing.md
 * builds on: for a connect run, memory per connection; for a cluster run, per message (the
 * median of its rounds, per target): instance CPU for the whole cluster and per instance,
 * Redis CPU, Redis writes and bytes, and the deliveries missing. Given cluster runs of one
 * adapter at several instance counts, it also fits Redis CPU and instance CPU (all instances)
 * per message as a + b × N.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult, Figures } from './run.js';

export interface Row {
  readonly file: string;
  readonly target: string;
  readonly adapter: string;
  readonly instances: number;
  readonly figures: Figures;
}

const COLUMNS: [label: string, value: (row: Row) => number | string][] = [
  ['run', (r) => basename(r.file, '.json')],
  ['adapter', (r) => r.adapter],
  ['N', (r) => r.instances],
  ['target', (r) => r.target],
  ['msg/s', (r) => r.figures.achievedPerS],
  ['inst µs/msg', (r) => r.figures.serverCpuUsPerMessage],
  ['per inst', (r) => round(r.figures.serverCpuUsPerMessage / r.instances)],
  ['redis µs/msg', (r) => r.figures.redisCpuUsPerMessage],
  ['writes/msg', (r) => r.figures.redisWritesPerMessage],
  ['redis out B/msg', (r) => r.figures.redisOutBytesPerMessage],
  ['missing', (r) => r.figures.deliveriesMissingAtEnd ?? r.figures.deliveriesMissing],
];

const round = (value: number): number => Math.round(value * 100) / 100;

export function rowsOf(file: string, result: BenchResult): Row[] {
  if (result.scenario !== 'cluster') return [];
  return Object.entries(result.medians).map(([target, figures]) => ({
    file,
    target,
    adapter: result.setup.adapter ?? 'pubsub',
    instances: result.setup.instances ?? 2,
    figures: figures,
  }));
}

/** Least squares y = a + b × x; undefined below two distinct x. */
export function fitLine(points: [x: number, y: number][]): { a: number; b: number } | undefined {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  if (n < 2 || sxx === 0) return undefined;
  const b = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
  return { a: round(my - b * mx), b: round(b) };
}

function table(rows: Row[]): string {
  const cells = [
    COLUMNS.map(([label]) => label),
    ...rows.map((row) => COLUMNS.map(([, value]) => String(value(row)))),
  ];
  const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  return cells.map((line) => line.map((c, i) => c.padStart(widths[i])).join('  ')).join('\n');
}

export function report(files: { file: string; result: BenchResult }[]): string {
  const out: string[] = [];
  for (const { file, result } of files.filter((f) => f.result.scenario === 'connect')) {
    for (const [target, f] of Object.entries(result.medians))
      out.push(
        `${file} ${target}: ${f.connected} connections, heap ${f.heapPerConnKB} KB and RSS ${f.rssPerConnKB} KB per connection`,
      );
  }
  const rows = files
    .flatMap(({ file, result }) => rowsOf(file, result))
    .sort(
      (x, y) =>
        x.adapter.localeCompare(y.adapter) ||
        x.instances - y.instances ||
        x.file.localeCompare(y.file) ||
        x.target.localeCompare(y.target),
    );
  if (rows.length > 0) {
    out.push('', table(rows));
    for (const target of new Set(rows.map((r) => r.target))) {
      for (const adapter of new Set(rows.map((r) => r.adapter))) {
        const mine = rows.filter((r) => r.target === target && r.adapter === adapter);
        for (const [what, key] of [
          ['Redis', 'redisCpuUsPerMessage'],
          ['instance', 'serverCpuUsPerMessage'],
        ] as const) {
          const fit = fitLine(mine.map((r) => [r.instances, r.figures[key]]));
          if (fit)
            out.push(
              `${target} ${adapter}: ${what} CPU per message ≈ ${fit.a} + ${fit.b} × N µs (N = ${mine.map((r) => r.instances).join(', ')})`,
            );
        }
      }
    }
  }
  return out.length > 0 ? out.join('\n').trim() : 'no connect or cluster run in these files';
}

function main(): void {
  const paths = process.argv.slice(2);
  if (paths.length === 0) {
    process.stderr.write('usage: node dist-tools/bench/sizing.js <bench.json>…\n');
    process.exit(2);
  }
  const files = paths.map((file) => {
    try {
      return { file, result: JSON.parse(readFileSync(file, 'utf8')) as BenchResult };
    } catch (error) {
      process.stderr.write(`${file}: not a bench JSON (${(error as Error).message})\n`);
      process.exit(2);
    }
  });
  process.stdout.write(`${report(files)}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
