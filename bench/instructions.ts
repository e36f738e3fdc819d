/**
 * `npm run bench:instructions -- [--history 0] [--messages 1000] [--warmup 3000] [--cache]
 *   [--clients 20] [--room-size 10] [--idle-ms 30000] [--keep <dir>] [--json]`
 *
 * CPU per message counted in instructions instead of seconds: each server runs under
 * valgrind's callgrind, which counts every instruction the process executes the same way
 * whatever else the machine is doing. Time ratios on a shared machine swing by tens of
 * percent between rounds; these repeat to a few percent, the spread coming from what the JIT
 * compiles when. Reported for all threads, and for the main thread alone (the JavaScript,
 * without the optimizing compiler's and GC helpers' threads: the steady state). What they
 * cannot see: the kernel's share (socket writes) and cache misses, unless `--cache`
 * simulates the caches (twice as slow), which adds an estimate of cycles.
 *
 * The same chat as the time bench, one message at a time (the regime of a server far below
 * saturation, where every message runs through cold code): clients in rooms of 10 (a fanout
 * with `--room-size` equal to `--clients`); after `--warmup` messages (so the JIT has
 * compiled the hot path), counting is switched on for `--messages` messages, each sent once
 * the previous one's ack and deliveries are in, then for an idle window of `--idle-ms`
 * (pings, timers, sweeps, metrics), reported on its own.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs, promisify } from 'node:util';
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import {
  freePort,
  hasExited,
  killOnExit,
  LOOPBACK,
  stopProcess,
  waitUntil,
} from '../tools/processes.js';
import { SCRIPTS, SECRET, serverEnv, type Target } from './run.js';

const run = promisify(execFile);
/** Valgrind runs the server 20–50× slower: every wait is that much longer than usual. */
const SLOW_MS = 600_000;

export interface InstructionOptions {
  readonly clients: number;
  /** Members per room: 10 is the chat scenario; as many as `clients` is a fanout. */
  readonly roomSize: number;
  readonly warmup: number;
  readonly messages: number;
  /** The template's ROOM_HISTORY_SIZE; unset keeps its default. */
  readonly history?: number;
  /** The idle window: longer than both servers' 25 s ping interval, so it holds one ping each. */
  readonly idleMs: number;
  /** Simulate the caches: adds misses and estimated cycles. */
  readonly cache: boolean;
  /** Keep callgrind's dumps here (for callgrind_annotate) instead of deleting them. */
  readonly keepDir?: string;
  readonly log?: (line: string) => void;
}

export type Counts = Record<string, number>;

export interface InstructionResult {
  readonly options: Omit<InstructionOptions, 'log'>;
  readonly targets: Record<Target, Counts>;
  readonly ratios: Counts;
}

/** Event totals of one callgrind dump, by event name (Ir, and with cache simulation D1mr…). */
function parseTotals(dump: string): Counts {
  const events = /^events: (.*)$/m.exec(dump)?.[1].trim().split(/\s+/) ?? [];
  // `summary:` comes first and may be 0; `totals:` at the end holds the dump's counts.
  const totals = /^totals: (.*)$/m.exec(dump)?.[1].trim().split(/\s+/) ?? [];
  return Object.fromEntries(events.map((name, i) => [name, Number(totals[i] ?? 0)]));
}

/** callgrind_annotate's estimate: an L1 miss costs ~10 cycles, a last-level miss ~100. */
function estimatedCycles(t: Counts): number | undefined {
  if (t.D1mr === undefined) return undefined;
  const l1 = t.I1mr + t.D1mr + t.D1mw;
  const ll = t.ILmr + t.DLmr + t.DLmw;
  return t.Ir + 10 * l1 + 100 * ll;
}

async function countOne(target: Target, options: InstructionOptions): Promise<Counts> {
  const log = options.log ?? (() => undefined);
  const { roomSize } = options;
  const dir = await mkdtemp(join(options.keepDir ?? tmpdir(), `instructions-${target}-`));
  const port = await freePort();
  const env: Record<string, string> = {};
  if (target === 'template' && options.history !== undefined)
    env.ROOM_HISTORY_SIZE = String(options.history);
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      // One dump per thread: the main thread runs the JavaScript; the others compile and collect.
      '--separate-threads=yes',
      '--instr-atstart=no',
      // A last level like a server part's L3 (32 MB, 16-way): virtual machines report odd ones.
      ...(options.cache ? ['--cache-sim=yes', '--LL=33554432,16,64'] : []),
      `--callgrind-out-file=${join(dir, 'callgrind.out')}`,
      process.execPath,
      SCRIPTS[target],
    ],
    { cwd: dir, env: serverEnv(port, env), stdio: ['ignore', 'ignore', 'pipe'] },
  );
  killOnExit(child);
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => void (errors += chunk.toString()));
  // callgrind_control finds the process through files named after HOST: the server's.
  const control = (...args: string[]) =>
    run('callgrind_control', [...args, String(child.pid)], {
      env: { ...process.env, HOST: LOOPBACK },
    });
  const sockets: Socket[] = [];
  try {
    const url = `http://${LOOPBACK}:${port}`;
    const startedAt = Date.now();
    await waitUntil(
      async () => {
        if (hasExited(child)) throw new Error(`${target} under valgrind exited:\n${errors}`);
        const res = await fetch(`${url}${target === 'template' ? '/health/ready' : '/'}`).catch(
          () => undefined,
        );
        return res !== undefined && (target === 'bare' || res.status === 200);
      },
      { timeoutMs: SLOW_MS, failure: `${target} not ready under valgrind`, intervalMs: 250 },
    );
    log(`${target}: ready under valgrind in ${Math.round((Date.now() - startedAt) / 1000)} s`);

    const key = new TextEncoder().encode(SECRET);
    let deliveries = 0;
    let waiting: { due: number; resolve: () => void } | undefined;
    for (let i = 0; i < options.clients; i++) {
      const token = await new SignJWT({ name: `user ${i}` })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(`u${i}`)
        .setExpirationTime('2h')
        .sign(key);
      const socket = io(`${url}/chat`, {
        auth: { token },
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        timeout: SLOW_MS,
      });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      socket.on('message:new', () => {
        deliveries += 1;
        if (waiting && deliveries >= waiting.due) waiting.resolve();
      });
      await socket.timeout(SLOW_MS).emitWithAck('room:join', { room: roomOf(i, roomSize) });
    }
    // The other members of the sender's room (the last room may be smaller).
    const othersInRoom = (index: number): number => {
      const first = index - (index % roomSize);
      return Math.min(roomSize, options.clients - first) - 1;
    };
    const send = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const index = i % options.clients;
        const due = deliveries + othersInRoom(index);
        const ack = (await sockets[index].timeout(SLOW_MS).emitWithAck('message:send', {
          room: roomOf(index, roomSize),
          text: `hello ${i} from the bench`,
        })) as {
          ok: boolean;
        };
        if (!ack.ok) throw new Error(`${target} refused a message: ${JSON.stringify(ack)}`);
        if (deliveries < due) await new Promise<void>((resolve) => (waiting = { due, resolve }));
      }
    };
    await send(options.warmup);
    await control('--instr=on');
    const busyStartedAt = Date.now();
    const deliveredBefore = deliveries;
    await send(options.messages);
    const busyMs = Date.now() - busyStartedAt;
    const delivered = deliveries - deliveredBefore;
    await control('--instr=off');
    await control('--dump=busy');
    await control('--instr=on');
    await sleep(options.idleMs);
    await control('--instr=off');
    await control('--dump=idle');

    const dumps: Record<string, { all: Counts; main: Counts }> = {};
    for (const name of await readdir(dir)) {
      const text = await readFile(join(dir, name), 'utf8');
      const trigger = /^desc: Trigger: dump (\w+)/m.exec(text)?.[1];
      if (!trigger) continue;
      const counts = parseTotals(text);
      const dump = (dumps[trigger] ??= { all: {}, main: {} });
      for (const [event, count] of Object.entries(counts))
        dump.all[event] = (dump.all[event] ?? 0) + count;
      if (/^thread: 1$/m.test(text)) dump.main = counts;
    }
    if (!dumps.busy || !dumps.idle)
      throw new Error(`${target}: callgrind wrote no dumps in ${dir}`);
    const busy = dumps.busy.all;
    const idle = dumps.idle.all;
    const counts: Counts = {
      instructionsPerMessage: Math.round(busy.Ir / options.messages),
      instructionsPerDelivery: Math.round(busy.Ir / Math.max(1, delivered)),
      // Without the optimizing compiler's and the GC helpers' threads: the steady state.
      mainThreadInstructionsPerMessage: Math.round(dumps.busy.main.Ir / options.messages),
      mainThreadInstructionsPerDelivery: Math.round(dumps.busy.main.Ir / Math.max(1, delivered)),
      idleInstructionsPerS: Math.round(idle.Ir / (options.idleMs / 1000)),
      // What the idle window says the busy one spent on timers is taken off.
      instructionsPerMessageLessIdle: Math.round(
        (busy.Ir - (idle.Ir * busyMs) / options.idleMs) / options.messages,
      ),
    };
    const cycles = estimatedCycles(busy);
    if (cycles !== undefined) {
      counts.estimatedCyclesPerMessage = Math.round(cycles / options.messages);
      counts.l1MissesPerMessage = Math.round(
        (busy.I1mr + busy.D1mr + busy.D1mw) / options.messages,
      );
      counts.llMissesPerMessage = Math.round(
        (busy.ILmr + busy.DLmr + busy.DLmw) / options.messages,
      );
    }
    log(`${target}: ${JSON.stringify(counts)}`);
    return counts;
  } finally {
    for (const socket of sockets) socket.disconnect();
    await stopProcess(child, 'SIGKILL');
    if (!options.keepDir) await rm(dir, { recursive: true, force: true });
  }
}

function roomOf(index: number, roomSize: number): string {
  return `room-${Math.floor(index / roomSize)}`;
}

export async function countInstructions(options: InstructionOptions): Promise<InstructionResult> {
  const targets = {
    template: await countOne('template', options),
    bare: await countOne('bare', options),
  };
  const ratios = Object.fromEntries(
    Object.keys(targets.template).map((key) => [
      key,
      Math.round((targets.template[key] / targets.bare[key]) * 1000) / 1000,
    ]),
  );
  const { clients, roomSize, warmup, messages, history, idleMs, cache } = options;
  return {
    options: { clients, roomSize, warmup, messages, history, idleMs, cache },
    targets,
    ratios,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '20' },
      'room-size': { type: 'string', default: '10' },
      'idle-ms': { type: 'string', default: '30000' },
      warmup: { type: 'string', default: '3000' },
      messages: { type: 'string', default: '1000' },
      history: { type: 'string' },
      cache: { type: 'boolean', default: false },
      keep: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const history = values.history === undefined ? undefined : Number(values.history);
  const result = await countInstructions({
    clients: Number(values.clients),
    roomSize: Number(values['room-size']),
    idleMs: Number(values['idle-ms']),
    warmup: Number(values.warmup),
    messages: Number(values.messages),
    history,
    cache: values.cache,
    keepDir: values.keep,
    log: values.json ? undefined : (line) => process.stdout.write(`${line}\n`),
  });
  if (values.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(`template ÷ bare: ${JSON.stringify(result.ratios)}\n`);
}

if (process.argv[1]?.endsWith('instructions.js')) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
      process.exit(1);
    },
  );
}
