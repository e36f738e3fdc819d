/**
 * `npm run bench -- --scenario chat --against bare [--rounds 3] [--json]`
 *
 * Runs a scenario against the template (`node dist/main.js`) and, with `--against bare`,
 * against the bare Socket.IO reference (`bench/bare-server.ts`) in the same run, alternating
 * (A B A B …) so a noisy machine hurts both alike; prints each round, the medians and the
 * per-round ratio template/bare. Servers and load generators are separate processes on
 * loopback; each round starts fresh ones.
 *
 * Scenarios: connect (N authenticated WebSocket connections: time, failures, memory per
 * connection), fanout (1 room × M members, a publisher at max rate: deliveries/s, latency,
 * CPU per delivery), chat (C clients in rooms of 10 sending R msg/s in total: achieved rate,
 * ack and delivery latency, errors, CPU per message), cluster (chat over 2 instances + Redis).
 *
 * `--history N` sets the template's ROOM_HISTORY_SIZE (0 turns history off; the default keeps
 * 100 per room); `--redis` gives both servers of a one-instance scenario a Redis, so history
 * lives there and bare publishes through the Redis adapter.
 *
 * cluster: `--instances N` (default 2) instances of each server share one Redis, clients
 * spread over them (so every room of 10 has members on each of up to 10 instances);
 * `--adapter pubsub|sharded|streams` picks the Redis adapter of both; `--clients` and
 * `--rate` size the load. With history on, the template's messages cross through its history
 * feed whatever the adapter: `--history 0` makes them the adapter's broadcasts, as bare's
 * are. Redis's side of the run is reported too (see `watchRedis`).
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  freePort,
  hasExited,
  killOnExit,
  LOOPBACK,
  stopProcess,
  waitUntil,
} from '../tools/processes.js';
import { redisCommand, startRedisServer, type RedisServer } from '../tools/redis-server.js';
import type { ServerStats, ServerWindow, WorkerCommand, WorkerReply } from './protocol.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(HERE, '../..');
export const SCRIPTS = {
  template: join(ROOT, 'dist/main.js'),
  bare: join(HERE, 'bare-server.js'),
} as const;
const PROBE = join(HERE, 'probe.js');
const WORKER = join(HERE, 'load-worker.js');
export const SECRET = 'bench-secret-long-enough-for-hs256-0123456789abcdef';

export type Target = keyof typeof SCRIPTS;

/** What the servers run with, besides the sizes. */
export interface Setup {
  /** The template's ROOM_HISTORY_SIZE; unset keeps its default. */
  readonly history?: number;
  /** A Redis for one-instance scenarios too. */
  readonly redis?: boolean;
  /**
   * Servers on the machine's last core, the bench, its load generators and Redis on the
   * others: the load no longer takes the servers' core away at random moments.
   */
  readonly pin?: boolean;
  /** The cluster scenario's Redis adapter (default pubsub). */
  readonly adapter?: Adapter;
  /** The cluster scenario's instance count (default 2). */
  readonly instances?: number;
}
const ADAPTERS = ['pubsub', 'sharded', 'streams'] as const;
type Adapter = (typeof ADAPTERS)[number];
type Scenario = 'connect' | 'fanout' | 'chat' | 'cluster';

export interface Sizes {
  readonly connections: number;
  readonly fanoutMembers: number;
  readonly chatClients: number;
  readonly chatRate: number;
  readonly roomSize: number;
  readonly durationMs: number;
  readonly workers: number;
}

export const FULL: Sizes = {
  connections: 10_000,
  fanoutMembers: 1000,
  chatClients: 1000,
  chatRate: 5000,
  roomSize: 10,
  durationMs: 10_000,
  workers: 4,
};
/** A few seconds per scenario: what the smoke test runs, so the bench cannot rot. */
export const TINY: Sizes = {
  connections: 60,
  fanoutMembers: 20,
  chatClients: 40,
  chatRate: 200,
  roomSize: 10,
  durationMs: 1000,
  workers: 2,
};

/** Figures of one run of one scenario against one target; all numbers. */
export type Figures = Record<string, number>;

export interface Round {
  readonly round: number;
  readonly target: Target;
  readonly figures: Figures;
}

export interface BenchResult {
  readonly scenario: Scenario;
  readonly sizes: Sizes;
  readonly setup: Setup;
  readonly machine: { cpus: number; node: string };
  readonly rounds: Round[];
  readonly medians: Partial<Record<Target, Figures>>;
  /** Per figure: the median of the per-round ratios template/bare. */
  readonly ratios?: Figures;
}

// ---------------------------------------------------------------------------- processes

// Ctrl-C exits, and an exit SIGKILLs every child still running (killOnExit).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

interface ServerProcess {
  readonly url: string;
  stats(): Promise<ServerStats>;
  /** Event-loop delay and GC pauses since the last `stats` or `window`. */
  window(): Promise<ServerWindow>;
  stop(): Promise<void>;
}

/** What both servers run with: loopback, the bench's secret, the template's limits opened. */
export function serverEnv(port: number, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    HOST: LOOPBACK,
    PORT: String(port),
    JWT_SECRET: SECRET,
    // The template's own limits, wide enough for the load; its limiter still runs.
    WS_MAX_CONNECTIONS: '25000',
    WS_RATE_LIMIT_PER_S: '1000000',
    WS_RATE_LIMIT_BURST: '1000000',
    SHUTDOWN_DRAIN_MS: '0',
    ...extra,
  };
}

/** With BENCH_PROFILE_DIR set, servers write a V8 CPU profile there when they stop. */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

const LAST_CPU = cpus().length - 1;

/** Keeps this process (and so every child it starts from now on) off the servers' core. */
export function pinBench(): void {
  if (LAST_CPU < 1) throw new Error('pinning needs at least 2 cores');
  execFileSync('taskset', ['-a', '-p', '-c', `0-${LAST_CPU - 1}`, String(process.pid)], {
    stdio: 'ignore',
  });
}

async function startServer(
  target: Target,
  env: Record<string, string>,
  pin = false,
): Promise<ServerProcess> {
  const port = await freePort();
  const profile = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}/${target}`] : [];
  const node = [process.execPath, ...profile, '--expose-gc', '--import', PROBE, SCRIPTS[target]];
  const child = spawn(
    pin ? 'taskset' : node[0],
    pin ? ['-c', String(LAST_CPU), ...node] : node.slice(1),
    {
      // Not the repository: the template would read a developer's .env there.
      cwd: tmpdir(),
      env: serverEnv(port, env),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  );
  killOnExit(child);
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => void (errors += chunk.toString()));
  const url = `http://${LOOPBACK}:${port}`;
  const path = target === 'template' ? '/health/ready' : '/';
  await waitUntil(
    async () => {
      if (hasExited(child)) throw new Error(`${target} server exited:\n${errors}`);
      const res = await fetch(`${url}${path}`).catch(() => undefined);
      return res !== undefined && (target === 'bare' || res.status === 200);
    },
    { timeoutMs: 20_000, failure: `${target} server not ready`, intervalMs: 50 },
  );
  const ask = <T extends ServerStats | ServerWindow>(question: T['type']): Promise<T> =>
    new Promise((resolve, reject) => {
      if (hasExited(child) || !child.connected) {
        reject(
          new Error(
            `${target} server exited (${child.exitCode ?? child.signalCode}):\n${errors.slice(-4000)}`,
          ),
        );
        return;
      }
      child.once('message', (message: T) => resolve(message));
      child.send(question);
    });
  return {
    url,
    stats: () => ask<ServerStats>('stats'),
    window: () => ask<ServerWindow>('window'),
    stop: async () => {
      // A profile is written on a clean exit only, which can take seconds after a long run.
      await (PROFILE_DIR ? stopProcess(child, 'SIGTERM', 60_000) : stopProcess(child, 'SIGKILL'));
    },
  };
}

class LoadWorker {
  private readonly child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

  constructor() {
    killOnExit(this.child);
  }

  ask<T extends WorkerReply['type']>(
    command: WorkerCommand,
    expect: T,
  ): Promise<Extract<WorkerReply, { type: T }>> {
    return new Promise((resolve) => {
      const onMessage = (reply: WorkerReply): void => {
        if (reply.type !== expect) return;
        this.child.off('message', onMessage);
        resolve(reply as Extract<WorkerReply, { type: T }>);
      };
      this.child.on('message', onMessage);
      this.child.send(command);
    });
  }

  tell(command: WorkerCommand): void {
    this.child.send(command);
  }

  async close(): Promise<void> {
    await stopProcess(this.child, () => this.child.send({ cmd: 'close' } satisfies WorkerCommand));
  }
}

// ---------------------------------------------------------------------------- figures

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

// ---------------------------------------------------------------------------- scenarios

interface Load {
  readonly workers: LoadWorker[];
  readonly connected: number;
  readonly failed: number;
  readonly connectMs: number;
}

/** `count` clients over the workers, connected to `urls` (client i to urls[i % n]). */
async function connectClients(urls: string[], count: number, sizes: Sizes): Promise<Load> {
  const workers = Array.from({ length: Math.min(sizes.workers, count) }, () => new LoadWorker());
  const per = Math.ceil(count / workers.length);
  const replies = await Promise.all(
    workers.map((worker, w) =>
      worker.ask(
        {
          cmd: 'connect',
          urls,
          secret: SECRET,
          firstIndex: w * per,
          count: Math.max(0, Math.min(per, count - w * per)),
          roomSize: sizes.roomSize,
          concurrency: 50,
        },
        'connected',
      ),
    ),
  );
  return {
    workers,
    connected: replies.reduce((n, r) => n + r.connected, 0),
    failed: replies.reduce((n, r) => n + r.failed, 0),
    connectMs: Math.max(...replies.map((r) => r.ms)),
  };
}

async function measureTraffic(
  load: Load,
  servers: ServerProcess[],
  durationMs: number,
  start: () => void,
  /** Deliveries due for this many acked messages; the count waits for them (up to 15 s). */
  deliveriesFor: (acked: number) => number,
): Promise<{
  reports: Extract<WorkerReply, { type: 'report' }>[];
  serverCpuUs: number;
  serverSystemUs: number;
  generatorCores: number;
  seconds: number;
  server: Figures;
}> {
  const cpuBefore = await Promise.all(servers.map((s) => s.stats()));
  const generatorBefore = await Promise.all(
    load.workers.map((w) => w.ask({ cmd: 'reset' }, 'reset')),
  );
  const startedAt = Date.now();
  start();
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  for (const worker of load.workers) worker.tell({ cmd: 'stop' });
  const loop = await Promise.all(servers.map((s) => s.window()));
  // Every ack in (the workers wait for them), then every delivery those acks promise.
  const acked = (
    await Promise.all(load.workers.map((w) => w.ask({ cmd: 'report' }, 'report')))
  ).reduce((n, r) => n + r.acked, 0);
  const due = deliveriesFor(acked);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const counts = await Promise.all(
      load.workers.map((w) => w.ask({ cmd: 'deliveries' }, 'deliveries')),
    );
    if (counts.reduce((n, c) => n + c.deliveries, 0) >= due || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const reports = await Promise.all(load.workers.map((w) => w.ask({ cmd: 'report' }, 'report')));
  const seconds = (Date.now() - startedAt) / 1000;
  const cpuAfter = await Promise.all(servers.map((s) => s.stats()));
  const serverCpuUs = cpuAfter.reduce((n, s, i) => n + s.cpuUs - cpuBefore[i].cpuUs, 0);
  const serverSystemUs = cpuAfter.reduce(
    (n, s, i) => n + s.cpuSystemUs - cpuBefore[i].cpuSystemUs,
    0,
  );
  const generatorUs = reports.reduce((n, r, i) => n + r.cpuUs - generatorBefore[i].cpuUs, 0);
  return {
    reports,
    serverCpuUs,
    serverSystemUs,
    generatorCores: generatorUs / 1e6 / seconds,
    seconds,
    server: {
      ...serverWindowFigures(loop, durationMs),
      youngGenerationMB: round2(Math.max(...cpuAfter.map((s) => s.youngGenerationBytes)) / 2 ** 20),
    },
  };
}

/**
 * The servers' event loops while the load ran (the worst server where there are several):
 * how late timers fired, and the garbage collector's pauses. A tail in the acks that these
 * do not show is not the server's.
 */
function serverWindowFigures(windows: ServerWindow[], durationMs: number): Figures {
  const worst = (pick: (w: ServerWindow) => number): number =>
    round2(Math.max(...windows.map(pick)));
  return {
    loopDelayP50ms: worst((w) => w.loopDelayP50Ms),
    loopDelayP99ms: worst((w) => w.loopDelayP99Ms),
    loopDelayMaxMs: worst((w) => w.loopDelayMaxMs),
    loopStalls: worst((w) => w.stalls),
    // Near 1: the server was busy through its stalls; near 0: the machine did not run it.
    loopStallCpuShare: worst((w) => (w.stallWallMs > 0 ? w.stallCpuMs / w.stallWallMs : 0)),
    gcPausesPerS: worst((w) => w.gcPauses / (durationMs / 1000)),
    gcMsPerS: worst((w) => w.gcTotalMs / (durationMs / 1000)),
    gcMaxPauseMs: worst((w) => w.gcMaxMs),
  };
}

// ---------------------------------------------------------------------------- cluster

/** Adapter and feed writes: one per message crossing instances, whichever the path. */
const REDIS_WRITES = ['publish', 'spublish', 'xadd', 'eval', 'evalsha', 'fcall'];
const OMEM_SAMPLE_MS = 250;

function parseInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

async function redisCounters(redis: RedisServer): Promise<Record<string, number>> {
  const info = parseInfo(await redisCommand(redis.port, 'INFO all', 5000));
  const calls = (command: string): number =>
    Number(/calls=(\d+)/.exec(info.get(`cmdstat_${command}`) ?? '')?.[1] ?? 0);
  return {
    cpuS: Number(info.get('used_cpu_sys')) + Number(info.get('used_cpu_user')),
    writes: REDIS_WRITES.reduce((n, command) => n + calls(command), 0),
    connections: Number(info.get('total_connections_received')),
    outBytes: Number(info.get('total_net_output_bytes')),
    inBytes: Number(info.get('total_net_input_bytes')),
  };
}

/**
 * Redis's side of a run, from just before the load to the end of the count: its CPU (INFO
 * cpu), the adapter and feed writes it received, bytes in and out, connections it accepted
 * (the servers' clients are all connected before: any new one is a client that was dropped
 * and came back), and the largest output buffer it held for a subscriber (CLIENT LIST
 * `omem`, sampled every 250 ms): a subscriber that falls behind shows there first.
 */
async function watchRedis(redis: RedisServer) {
  const before = await redisCounters(redis);
  let omemMax = 0;
  // Each look opens a connection of its own: those are taken off the count.
  let looks = 1;
  const sampler = setInterval(() => {
    looks += 1;
    redisCommand(redis.port, 'CLIENT LIST TYPE pubsub', 2000).then(
      (list) => {
        for (const match of list.matchAll(/ omem=(\d+)/g))
          omemMax = Math.max(omemMax, Number(match[1]));
      },
      () => undefined,
    );
  }, OMEM_SAMPLE_MS);
  return {
    figures: async (messages: number): Promise<Figures> => {
      clearInterval(sampler);
      const after = await redisCounters(redis);
      const per = Math.max(1, messages);
      return {
        redisCpuUsPerMessage: round2(((after.cpuS - before.cpuS) * 1e6) / per),
        redisWritesPerMessage: round2((after.writes - before.writes) / per),
        redisOutBytesPerMessage: Math.round((after.outBytes - before.outBytes) / per),
        redisInBytesPerMessage: Math.round((after.inBytes - before.inBytes) / per),
        redisReconnections: after.connections - before.connections - looks,
        redisSubscriberOmemMaxKB: round2(omemMax / 1024),
      };
    },
  };
}

/** Deliveries that came after the 15 s count, up to 60 s more, until none came for 3 s. */
async function lateDeliveries(load: Load, due: number, counted: number): Promise<Figures> {
  const deadline = Date.now() + 60_000;
  let last = counted;
  let quietSince = Date.now();
  while (last < due && Date.now() < deadline && Date.now() - quietSince < 3000) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const counts = await Promise.all(
      load.workers.map((w) => w.ask({ cmd: 'deliveries' }, 'deliveries')),
    );
    const now = counts.reduce((n, c) => n + c.deliveries, 0);
    if (now > last) quietSince = Date.now();
    last = now;
  }
  return { deliveriesLate: last - counted, deliveriesMissingAtEnd: Math.max(0, due - last) };
}

export async function runScenario(
  scenario: Scenario,
  target: Target,
  sizes: Sizes,
  setup: Setup = {},
): Promise<Figures> {
  const redis =
    scenario === 'cluster' || setup.redis
      ? await startRedisServer({ onSpawn: killOnExit })
      : undefined;
  const env: Record<string, string> = redis
    ? { REDIS_URL: redis.url, REDIS_ADAPTER: setup.adapter ?? 'pubsub' }
    : {};
  if (target === 'template' && setup.history !== undefined)
    env.ROOM_HISTORY_SIZE = String(setup.history);
  const servers: ServerProcess[] = [];
  let load: Load | undefined;
  try {
    for (let i = 0; i < (scenario === 'cluster' ? (setup.instances ?? 2) : 1); i++)
      servers.push(await startServer(target, env, setup.pin));
    const urls = servers.map((s) => s.url);
    if (scenario === 'connect') {
      const before = await servers[0].stats();
      load = await connectClients(urls, sizes.connections, sizes);
      const after = await servers[0].stats();
      return {
        connected: load.connected,
        failed: load.failed,
        connectS: round2(load.connectMs / 1000),
        rssPerConnKB: round2((after.rss - before.rss) / 1024 / Math.max(1, load.connected)),
        heapPerConnKB: round2(
          (after.heapUsed - before.heapUsed) / 1024 / Math.max(1, load.connected),
        ),
        rssMB: round2(after.rss / 1024 / 1024),
      };
    }
    if (scenario === 'fanout') {
      const members = sizes.fanoutMembers + 1;
      load = await connectClients(urls, members, { ...sizes, roomSize: members });
      await Promise.all(load.workers.map((w) => w.ask({ cmd: 'join' }, 'joined')));
      const publisher = load.workers[0];
      // The template announces each join to the room: let that settle before measuring.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const traffic = await measureTraffic(
        load,
        servers,
        sizes.durationMs,
        () => publisher.tell({ cmd: 'publish', durationMs: sizes.durationMs, window: 20 }),
        (acked) => acked * sizes.fanoutMembers,
      );
      const deliveries = traffic.reports.reduce((n, r) => n + r.deliveries, 0);
      const latencies = traffic.reports.flatMap((r) => r.deliverySamples);
      return {
        connected: load.connected,
        published: traffic.reports[0].acked,
        deliveriesPerS: Math.round(deliveries / (sizes.durationMs / 1000)),
        deliveryP50ms: round2(percentile(latencies, 0.5)),
        deliveryP95ms: round2(percentile(latencies, 0.95)),
        deliveryP99ms: round2(percentile(latencies, 0.99)),
        serverCpuUsPerDelivery: round2(traffic.serverCpuUs / Math.max(1, deliveries)),
        serverSystemCpuUsPerDelivery: round2(traffic.serverSystemUs / Math.max(1, deliveries)),
        deliveriesMissing: Math.max(0, traffic.reports[0].acked * sizes.fanoutMembers - deliveries),
        errors: traffic.reports.reduce((n, r) => n + r.errors, 0),
        generatorCores: round2(traffic.generatorCores),
        ...traffic.server,
      };
    }
    // chat and cluster
    load = await connectClients(urls, sizes.chatClients, sizes);
    await Promise.all(load.workers.map((w) => w.ask({ cmd: 'join' }, 'joined')));
    const ratePerClient = sizes.chatRate / sizes.chatClients;
    const redisWatch = redis && scenario === 'cluster' ? await watchRedis(redis) : undefined;
    const traffic = await measureTraffic(
      load,
      servers,
      sizes.durationMs,
      () => {
        for (const worker of load!.workers) worker.tell({ cmd: 'chat', ratePerClient });
      },
      (acked) => acked * (sizes.roomSize - 1),
    );
    const sent = traffic.reports.reduce((n, r) => n + r.sent, 0);
    const acked = traffic.reports.reduce((n, r) => n + r.acked, 0);
    const deliveries = traffic.reports.reduce((n, r) => n + r.deliveries, 0);
    const cluster = redisWatch
      ? {
          ...(await lateDeliveries(load, acked * (sizes.roomSize - 1), deliveries)),
          ...(await redisWatch.figures(sent)),
          instances: servers.length,
        }
      : {};
    const acks = traffic.reports.flatMap((r) => r.ackSamples);
    const latencies = traffic.reports.flatMap((r) => r.deliverySamples);
    return {
      connected: load.connected,
      sentPerS: Math.round(sent / (sizes.durationMs / 1000)),
      // Acked before the load stopped: what the server kept up with, not its backlog.
      achievedPerS: Math.round(
        traffic.reports.reduce((n, r) => n + r.ackedInWindow, 0) / (sizes.durationMs / 1000),
      ),
      ackP50ms: round2(percentile(acks, 0.5)),
      ackP95ms: round2(percentile(acks, 0.95)),
      ackP99ms: round2(percentile(acks, 0.99)),
      deliveryP50ms: round2(percentile(latencies, 0.5)),
      deliveryP95ms: round2(percentile(latencies, 0.95)),
      deliveryP99ms: round2(percentile(latencies, 0.99)),
      serverCpuUsPerMessage: round2(traffic.serverCpuUs / Math.max(1, sent)),
      serverSystemCpuUsPerMessage: round2(traffic.serverSystemUs / Math.max(1, sent)),
      deliveriesMissing: Math.max(0, acked * (sizes.roomSize - 1) - deliveries),
      // Error acks and ack timeouts; then sends with no answer at all.
      errors: traffic.reports.reduce((n, r) => n + r.errors, 0),
      unanswered: traffic.reports.reduce((n, r) => n + r.unanswered, 0),
      generatorCores: round2(traffic.generatorCores),
      ...traffic.server,
      ...cluster,
    };
  } finally {
    await Promise.all((load?.workers ?? []).map((w) => w.close()));
    await Promise.all(servers.map((s) => s.stop()));
    await redis?.stop();
  }
}

export async function runBench(options: {
  scenario: Scenario;
  against?: 'bare';
  rounds: number;
  sizes: Sizes;
  setup?: Setup;
  log?: (line: string) => void;
}): Promise<BenchResult> {
  const { scenario, rounds, sizes, setup = {}, log = () => undefined } = options;
  const targets: Target[] = options.against ? ['template', 'bare'] : ['template'];
  const results: Round[] = [];
  for (let round = 1; round <= rounds; round++) {
    // A B A B: the order flips every round.
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const target of order) {
      const figures = await runScenario(scenario, target, sizes, setup);
      results.push({ round, target, figures });
      log(`round ${round} ${target.padEnd(8)} ${JSON.stringify(figures)}`);
    }
  }
  const medians: Partial<Record<Target, Figures>> = {};
  for (const target of targets) {
    const mine = results.filter((r) => r.target === target).map((r) => r.figures);
    medians[target] = Object.fromEntries(
      Object.keys(mine[0]).map((key) => [key, round2(median(mine.map((f) => f[key])))]),
    );
  }
  let ratios: Figures | undefined;
  if (options.against) {
    ratios = {};
    const keys = Object.keys(medians.template!);
    for (const key of keys) {
      const perRound = Array.from({ length: rounds }, (_, i) => {
        const t = results.find((r) => r.round === i + 1 && r.target === 'template')!.figures[key];
        const b = results.find((r) => r.round === i + 1 && r.target === 'bare')!.figures[key];
        return b === 0 ? NaN : t / b;
      }).filter((ratio) => Number.isFinite(ratio));
      if (perRound.length > 0) ratios[key] = round2(median(perRound));
    }
  }
  return {
    scenario,
    sizes,
    setup,
    machine: { cpus: cpus().length, node: process.version },
    rounds: results,
    medians,
    ratios,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'chat' },
      against: { type: 'string' },
      // Even, so each target goes first as often as the other (A B, B A, …).
      rounds: { type: 'string', default: '4' },
      json: { type: 'boolean', default: false },
      tiny: { type: 'boolean', default: false },
      connections: { type: 'string' },
      'duration-ms': { type: 'string' },
      rate: { type: 'string' },
      history: { type: 'string' },
      redis: { type: 'boolean', default: false },
      clients: { type: 'string' },
      adapter: { type: 'string', default: 'pubsub' },
      pin: { type: 'boolean', default: false },
      instances: { type: 'string', default: '2' },
    },
  });
  const scenario = values.scenario as Scenario;
  if (!['connect', 'fanout', 'chat', 'cluster'].includes(scenario))
    throw new Error('--scenario is one of connect, fanout, chat, cluster');
  if (values.against !== undefined && values.against !== 'bare')
    throw new Error('--against takes bare (the bare Socket.IO reference)');
  for (const script of [...Object.values(SCRIPTS), PROBE, WORKER])
    if (!existsSync(script)) throw new Error(`${script} is missing: run npm run build:tools`);
  const base = values.tiny ? TINY : FULL;
  const sizes: Sizes = {
    ...base,
    ...(values.connections ? { connections: Number(values.connections) } : {}),
    ...(values['duration-ms'] ? { durationMs: Number(values['duration-ms']) } : {}),
    ...(values.rate ? { chatRate: Number(values.rate) } : {}),
    ...(values.clients ? { chatClients: Number(values.clients) } : {}),
  };
  const rounds = Number(values.rounds);
  const adapter = values.adapter as Adapter;
  if (!ADAPTERS.includes(adapter)) throw new Error(`--adapter is one of ${ADAPTERS.join(', ')}`);
  const instances = Number(values.instances);
  if (!(Number.isInteger(instances) && instances >= 1 && instances <= 8))
    throw new Error('--instances takes a whole number from 1 to 8');
  if (values.clients !== undefined && !(Number(values.clients) >= 1))
    throw new Error('--clients takes a number of chat clients');
  const history = values.history === undefined ? undefined : Number(values.history);
  if (history !== undefined && !(Number.isInteger(history) && history >= 0))
    throw new Error('--history takes the ROOM_HISTORY_SIZE to run with (0 turns history off)');
  if (values.pin) pinBench();
  const result = await runBench({
    scenario,
    against: values.against,
    rounds,
    sizes,
    setup: {
      history,
      redis: values.redis,
      pin: values.pin,
      ...(scenario === 'cluster' ? { adapter, instances } : {}),
    },
    log: values.json ? undefined : (line) => process.stdout.write(`${line}\n`),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(
    `\n${scenario}: medians over ${rounds} rounds (${result.machine.cpus} CPUs, Node ${result.machine.node})\n`,
  );
  const keys = Object.keys(result.medians.template!);
  const width = Math.max(...keys.map((k) => k.length));
  process.stdout.write(
    `${''.padEnd(width)}  ${'template'.padStart(12)}${result.ratios ? `  ${'bare'.padStart(12)}  ${'ratio'.padStart(7)}` : ''}\n`,
  );
  for (const key of keys) {
    const line = `${key.padEnd(width)}  ${String(result.medians.template![key]).padStart(12)}`;
    const bare = result.ratios
      ? `  ${String(result.medians.bare![key]).padStart(12)}  ${String(result.ratios[key] ?? '-').padStart(7)}`
      : '';
    process.stdout.write(`${line}${bare}\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
