/**
 * `node dist-tools/bench/chart.js out.svg result.json…`: one horizontal bar per headline
 * figure, the median per-round ratio template/bare from `npm run bench -- --json` results,
 * with the target of each drawn as a tick. Plain SVG, no dependencies, a few KB.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { BenchResult } from './run.js';

/** The headline figures per scenario: key, label, and the ratio to bare the template aims for. */
const HEADLINES: Record<string, [key: string, label: string, target: number][]> = {
  connect: [
    ['heapPerConnKB', 'connect: heap per connection', 1.0],
    ['rssPerConnKB', 'connect: RSS per connection', 1.0],
  ],
  fanout: [
    ['serverCpuUsPerDelivery', 'fanout: CPU per delivery', 1.02],
    ['deliveryP99ms', 'fanout: delivery p99', 1.5],
  ],
  chat: [
    ['serverCpuUsPerMessage', 'chat: CPU per message', 1.05],
    ['ackP99ms', 'chat: ack p99', 1.5],
    ['deliveryP99ms', 'chat: delivery p99', 1.5],
  ],
  cluster: [['serverCpuUsPerMessage', 'cluster: CPU per message', 1.05]],
};

function chart(results: BenchResult[]): string {
  const rows = results.flatMap((result) =>
    (HEADLINES[result.scenario] ?? [])
      .filter(([key]) => result.ratios?.[key] !== undefined)
      .map(([key, label, target]) => ({ label, ratio: result.ratios![key], target })),
  );
  const width = 640;
  const left = 230;
  const barHeight = 22;
  const top = 40;
  const height = top + rows.length * (barHeight + 8) + 30;
  const max = Math.max(2, ...rows.map((r) => r.ratio), ...rows.map((r) => r.target)) * 1.05;
  const x = (ratio: number): number => left + ((width - left - 20) * ratio) / max;
  const bars = rows
    .map(({ label, ratio, target }, i) => {
      const y = top + i * (barHeight + 8);
      const colour = ratio <= target ? '#2e7d32' : '#c62828';
      return [
        `<text x="${left - 8}" y="${y + 15}" text-anchor="end">${label}</text>`,
        `<rect x="${left}" y="${y}" width="${x(ratio) - left}" height="${barHeight}" fill="${colour}"/>`,
        `<text x="${x(ratio) + 4}" y="${y + 15}">${ratio.toFixed(2)}×</text>`,
        `<line x1="${x(target)}" x2="${x(target)}" y1="${y - 2}" y2="${y + barHeight + 2}" stroke="#000" stroke-dasharray="3,2"/>`,
      ].join('');
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<text x="10" y="20" font-size="13" font-weight="bold">Template ÷ bare Socket.IO (median of rounds; dashed: target; green: met)</text>
<line x1="${x(1)}" x2="${x(1)}" y1="${top - 6}" y2="${height - 24}" stroke="#888"/>
<text x="${x(1)}" y="${height - 10}" text-anchor="middle">1.0 = bare</text>
${bars}
</svg>
`;
}

const [out, ...inputs] = process.argv.slice(2);
if (!out || inputs.length === 0) {
  process.stderr.write('usage: node dist-tools/bench/chart.js out.svg result.json…\n');
  process.exit(1);
}
const results = inputs.map((file) => JSON.parse(readFileSync(file, 'utf8')) as BenchResult);
writeFileSync(out, chart(results));
