/**
 * `npm run bench:knee -- [--history 0] [--redis] [--json]`
 *
 * Finds each server's knee in the chat scenario: the highest offered rate whose ack p99 stays
 * under the limit (50 ms) while the rate is achieved. The rate climbs by `--step` from
 * `--from` until a target fails, then bisects between its last pass and first fail. Targets
 * alternate at every rate, so a noisy machine hurts both alike. Reports the knee in msg/s and
 * per server core (1 s of CPU ÷ CPU per message at the knee).
 */
import { parseArgs } from 'node:util';
import { FULL, type Figures, pinBench, runScenario, type Setup, TINY, type Target } from './run.js';

export interface Step {
  readonly target: Target;
  readonly rate: number;
  readonly figures: Figures;
  readonly passed: boolean;
}

export interface Knee {
  /** The highest rate that passed, in msg/s (0: none did). */
  readonly rate: number;
  /** Messages per second one core of the server handles at that rate. */
  readonly perCore: number;
  readonly ackP99ms: number;
}

export interface KneeResult {
  readonly limitMs: number;
  readonly setup: Setup;
  readonly steps: Step[];
  readonly knees: Record<Target, Knee>;
  readonly ratio: number;
}

export interface KneeOptions {
  readonly from: number;
  /** Each rung of the ladder: the last rate × step. */
  readonly step: number;
  /** Bisections between the last pass and the first fail. */
  readonly bisections: number;
  readonly maxRungs: number;
  /** Runs per target and rate; the median run decides (3 outvotes one unlucky run). */
  readonly rounds: number;
  readonly limitMs: number;
  readonly tiny: boolean;
  readonly setup: Setup;
  readonly log?: (line: string) => void;
}

/** Passed: p99 under the limit, at least 97 % of the offered rate acked in time, no errors. */
export function passes(figures: Figures, rate: number, limitMs: number): boolean {
  return (
    figures.ackP99ms < limitMs &&
    figures.achievedPerS >= 0.97 * rate &&
    figures.errors === 0 &&
    figures.unanswered === 0
  );
}

/** Per figure, the median over rounds (the middle one of an odd count). */
function medianFigures(rounds: Figures[]): Figures {
  return Object.fromEntries(
    Object.keys(rounds[0]).map((key) => {
      const sorted = rounds.map((f) => f[key]).sort((a, b) => a - b);
      return [key, sorted[Math.floor(sorted.length / 2)]];
    }),
  );
}

export async function findKnees(options: KneeOptions): Promise<KneeResult> {
  const { limitMs, setup, log = () => undefined } = options;
  const base = options.tiny ? TINY : FULL;
  const targets: Target[] = ['template', 'bare'];
  const steps: Step[] = [];
  const best = new Map<Target, Step>();
  const failedAt = new Map<Target, number>();
  /** Each target `rounds` times at `rate`, alternating; each figure of a step is its median. */
  const measure = async (rung: readonly Target[], rate: number): Promise<void> => {
    const runs = new Map<Target, Figures[]>(rung.map((target) => [target, []]));
    for (let round = 0; round < options.rounds; round++) {
      // A B, then B A: neither target always runs on the machine the other just warmed.
      const order = round % 2 === 0 ? rung : [...rung].reverse();
      for (const target of order)
        runs
          .get(target)!
          .push(await runScenario('chat', target, { ...base, chatRate: rate }, setup));
    }
    for (const [target, rounds] of runs) {
      const figures = medianFigures(rounds);
      const step = { target, rate, figures, passed: passes(figures, rate, limitMs) };
      steps.push(step);
      log(
        `${target.padEnd(8)} ${String(rate).padStart(6)} msg/s  p99 ${figures.ackP99ms} ms  ` +
          `achieved ${figures.achievedPerS}  server loop p99 ${figures.loopDelayP99ms} ms  ` +
          `generators ${figures.generatorCores} cores  ${step.passed ? 'pass' : 'FAIL'}`,
      );
      if (step.passed && rate > (best.get(target)?.rate ?? 0)) best.set(target, step);
      if (!step.passed) failedAt.set(target, Math.min(rate, failedAt.get(target) ?? Infinity));
    }
  };
  let rate = options.from;
  for (let rung = 0; rung < options.maxRungs && failedAt.size < targets.length; rung++) {
    const order = rung % 2 === 0 ? targets : [...targets].reverse();
    await measure(
      order.filter((target) => !failedAt.has(target)),
      rate,
    );
    rate = Math.round(rate * options.step);
  }
  for (let i = 0; i < options.bisections; i++)
    for (const target of targets) {
      const low = best.get(target)?.rate ?? 0;
      const high = failedAt.get(target);
      if (high === undefined || high - low < base.chatClients / 10) continue;
      await measure([target], Math.round((low + high) / 2));
    }
  const knees = Object.fromEntries(
    targets.map((target) => {
      const step = best.get(target);
      const cpu = step?.figures.serverCpuUsPerMessage ?? 0;
      return [
        target,
        {
          rate: step?.rate ?? 0,
          perCore: cpu > 0 ? Math.round(1e6 / cpu) : 0,
          ackP99ms: step?.figures.ackP99ms ?? 0,
        },
      ];
    }),
  ) as Record<Target, Knee>;
  const ratio = knees.bare.rate > 0 ? knees.template.rate / knees.bare.rate : NaN;
  return { limitMs, setup, steps, knees, ratio: Math.round(ratio * 100) / 100 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      step: { type: 'string', default: '1.25' },
      bisections: { type: 'string', default: '2' },
      'max-rungs': { type: 'string', default: '12' },
      rounds: { type: 'string', default: '1' },
      'limit-ms': { type: 'string', default: '50' },
      history: { type: 'string' },
      redis: { type: 'boolean', default: false },
      tiny: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      pin: { type: 'boolean', default: false },
    },
  });
  if (values.pin) pinBench();
  const tiny = values.tiny;
  const history = values.history === undefined ? undefined : Number(values.history);
  const result = await findKnees({
    from: Number(values.from ?? (tiny ? 100 : 2000)),
    step: Number(values.step),
    bisections: Number(values.bisections),
    maxRungs: Number(values['max-rungs']),
    rounds: Number(values.rounds),
    limitMs: Number(values['limit-ms']),
    tiny,
    setup: { history, redis: values.redis, pin: values.pin },
    // With --json, progress goes to stderr so stdout stays one document.
    log: (line) => (values.json ? process.stderr : process.stdout).write(`${line}\n`),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  for (const [target, knee] of Object.entries(result.knees))
    process.stdout.write(
      `${target.padEnd(8)} knee ${knee.rate} msg/s (p99 ${knee.ackP99ms} ms), ${knee.perCore} msg/s per server core\n`,
    );
  process.stdout.write(`template ÷ bare: ${result.ratio}\n`);
}

if (process.argv[1]?.endsWith('knee.js')) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
