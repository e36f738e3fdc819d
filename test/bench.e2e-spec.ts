/**
 * The benchmark's smoke test: every scenario runs for a second at tiny sizes against the
 * template and the bare reference, through the real CLI (`node dist-tools/bench/run.js`), so
 * the bench cannot rot. It asserts that each completes and reports sane figures, never a
 * speed: speeds are measured by `npm run bench` and quoted in docs/PERFORMANCE.md.
 */
import { execFile } from 'node:child_process';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { redisAvailable } from './support/redis.js';

const RUN = fileURLToPath(new URL('../dist-tools/bench/run.js', import.meta.url));
const KNEE = fileURLToPath(new URL('../dist-tools/bench/knee.js', import.meta.url));
const SIZING = fileURLToPath(new URL('../dist-tools/bench/sizing.js', import.meta.url));
const INSTRUCTIONS = fileURLToPath(new URL('../dist-tools/bench/instructions.js', import.meta.url));
const execFileAsync = promisify(execFile);

interface Result {
  scenario: string;
  rounds: { round: number; target: string; figures: Record<string, number> }[];
  medians: Record<'template' | 'bare', Record<string, number>>;
  ratios: Record<string, number>;
}

// Two servers and a few processes per scenario: slower than the default test timeout.
jest.setTimeout(120_000);

async function bench(scenario: string, ...options: string[]): Promise<Result> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      RUN,
      ...['--scenario', scenario, '--against', 'bare', '--rounds', '1', '--tiny', '--json'],
      ...options,
    ],
    { timeout: 110_000 },
  );
  return JSON.parse(stdout) as Result;
}

/** The probe's view of the server's event loop while the load ran. */
function expectServerLoopFigures(figures: Record<string, number>): void {
  expect(figures.loopDelayP99ms).toBeGreaterThanOrEqual(figures.loopDelayP50ms);
  expect(figures.loopDelayMaxMs).toBeGreaterThanOrEqual(figures.loopDelayP99ms);
  expect(figures.loopStalls).toBeGreaterThanOrEqual(0);
  expect(figures.loopStallCpuShare).toBeGreaterThanOrEqual(0);
  expect(figures.gcPausesPerS).toBeGreaterThanOrEqual(0);
  expect(figures.youngGenerationMB).toBeGreaterThan(0);
  expect(figures.serverSystemCpuUsPerMessage).toBeLessThanOrEqual(figures.serverCpuUsPerMessage);
}

beforeAll(() => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
});

it('connect: every client connects to both servers, memory per connection reported', async () => {
  const result = await bench('connect');
  expect(result.rounds.map((r) => r.target).sort()).toEqual(['bare', 'template']);
  for (const target of ['template', 'bare'] as const) {
    const figures = result.medians[target];
    expect(figures).toMatchObject({ connected: 60, failed: 0 });
    expect(figures.connectS).toBeGreaterThan(0);
    expect(Number.isFinite(figures.rssPerConnKB)).toBe(true);
    expect(figures.heapPerConnKB).toBeGreaterThan(0);
  }
  expect(result.ratios.connected).toBe(1);
});

it('fanout: the room gets the publisher’s messages on both servers', async () => {
  const result = await bench('fanout');
  for (const target of ['template', 'bare'] as const) {
    const figures = result.medians[target];
    expect(figures).toMatchObject({ connected: 21, errors: 0, deliveriesMissing: 0 });
    expect(figures.published).toBeGreaterThan(0);
    expect(figures.deliveriesPerS).toBeGreaterThan(0);
    expect(figures.deliveryP99ms).toBeGreaterThanOrEqual(figures.deliveryP50ms);
    expect(figures.serverCpuUsPerDelivery).toBeGreaterThan(0);
  }
  expect(Number.isFinite(result.ratios.serverCpuUsPerDelivery)).toBe(true);
});

// chat with the servers pinned to a core of their own (`--pin`); cluster as it comes.
it.each([
  ['chat', ['--pin']],
  ['cluster', []],
])('%s: the offered rate is achieved without errors on both servers', async (scenario, options) => {
  const result = await bench(scenario, ...options);
  for (const target of ['template', 'bare'] as const) {
    const figures = result.medians[target];
    expect(figures).toMatchObject({ connected: 40, errors: 0, deliveriesMissing: 0 });
    // 200 msg/s offered for a second, each client at its own phase.
    expect(figures.achievedPerS).toBeGreaterThan(150);
    expect(figures.ackP99ms).toBeGreaterThanOrEqual(figures.ackP50ms);
    expect(figures.deliveryP50ms).toBeGreaterThan(0);
    expect(figures.serverCpuUsPerMessage).toBeGreaterThan(0);
    expect(figures.generatorCores).toBeGreaterThan(0);
    expectServerLoopFigures(figures);
  }
});

it('knee: both servers are measured at the first rung, each knee reported with its rate', async () => {
  const { stdout } = await execFileAsync(
    process.execPath,
    [KNEE, '--tiny', '--max-rungs', '1', '--bisections', '0', '--json'],
    { timeout: 110_000 },
  );
  const result = JSON.parse(stdout) as {
    steps: { target: string; rate: number; passed: boolean }[];
    knees: Record<'template' | 'bare', { rate: number; perCore: number }>;
  };
  expect(result.steps.map(({ target, rate }) => `${target} ${rate}`).sort()).toEqual([
    'bare 100',
    'template 100',
  ]);
  for (const target of ['template', 'bare'] as const) {
    const passed = result.steps.find((step) => step.target === target)!.passed;
    expect(result.knees[target].rate).toBe(passed ? 100 : 0);
    if (passed) expect(result.knees[target].perCore).toBeGreaterThan(0);
  }
});

it.each([
  ['sharded', '2'],
  ['streams', '3'],
])(
  'cluster --adapter %s --instances %s: every message crosses, Redis’s side is reported, sizing reads it',
  async (adapter, instances) => {
    const result = await bench(
      'cluster',
      '--adapter',
      adapter,
      '--instances',
      instances,
      '--history',
      '0',
    );
    for (const target of ['template', 'bare'] as const) {
      const figures = result.medians[target];
      expect(figures).toMatchObject({
        connected: 40,
        errors: 0,
        deliveriesMissingAtEnd: 0,
        instances: Number(instances),
        redisReconnections: 0,
      });
      // One adapter write per message, from both servers.
      expect(figures.redisWritesPerMessage).toBeGreaterThanOrEqual(1);
      expect(figures.redisCpuUsPerMessage).toBeGreaterThan(0);
      expect(figures.redisOutBytesPerMessage).toBeGreaterThan(0);
    }
    const dir = await mkdtemp(join(tmpdir(), 'sizing-'));
    try {
      const file = join(dir, 'cluster.json');
      await writeFile(file, JSON.stringify(result));
      const { stdout } = await execFileAsync(process.execPath, [SIZING, file]);
      expect(stdout).toMatch(new RegExp(`${adapter}\\s+${instances}\\s+template`));
      expect(stdout).toMatch(new RegExp(`${adapter}\\s+${instances}\\s+bare`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

it('instructions: both servers counted under callgrind, per message and idle', async () => {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      ...[INSTRUCTIONS, '--clients', '12', '--warmup', '20', '--messages', '10'],
      ...['--idle-ms', '500', '--json'],
    ],
    { timeout: 110_000 },
  );
  const result = JSON.parse(stdout) as {
    targets: Record<'template' | 'bare', Record<string, number>>;
    ratios: Record<string, number>;
  };
  for (const target of ['template', 'bare'] as const) {
    expect(result.targets[target].instructionsPerMessage).toBeGreaterThan(1000);
    // The main thread is one of several (the compiler and GC helpers may run on others).
    expect(result.targets[target].mainThreadInstructionsPerMessage).toBeGreaterThan(1000);
    expect(result.targets[target].mainThreadInstructionsPerMessage).toBeLessThanOrEqual(
      result.targets[target].instructionsPerMessage,
    );
    expect(result.targets[target].idleInstructionsPerS).toBeGreaterThanOrEqual(0);
  }
  expect(Number.isFinite(result.ratios.instructionsPerMessage)).toBe(true);
});

it('the bench refuses an unknown adapter or instance count with a clear message', async () => {
  for (const [option, value, message] of [
    ['--adapter', 'kafka', '--adapter is one of pubsub, sharded, streams'],
    ['--instances', '0', '--instances takes a whole number from 1 to 8'],
  ]) {
    await expect(
      execFileAsync(process.execPath, [RUN, '--scenario', 'cluster', option, value]),
    ).rejects.toMatchObject({ stderr: expect.stringContaining(message) as unknown });
  }
});
