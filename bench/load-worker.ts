/**
 * One load-generator process (the bench forks several): holds a slice of stock socket.io
 * clients (WebSocket transport, loopback only) and runs what the bench asks on its IPC
 * channel. Latencies are measured with the epoch clock every process shares
 * (`performance.timeOrigin + performance.now()`); samples are capped so a long run stays
 * bounded in memory.
 */
import { performance } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';
import type { WorkerCommand, WorkerReply } from './protocol.js';

const MAX_SAMPLES = 40_000;
const now = (): number => performance.timeOrigin + performance.now();

let clients: { socket: Socket; room: string }[] = [];
/** A uniform sample of at most MAX_SAMPLES values (reservoir sampling). */
class Reservoir {
  readonly values: number[] = [];
  private seen = 0;

  add(value: number): void {
    this.seen += 1;
    if (this.values.length < MAX_SAMPLES) this.values.push(value);
    else {
      const slot = Math.floor(Math.random() * this.seen);
      if (slot < MAX_SAMPLES) this.values[slot] = value;
    }
  }
}

let ackSamples = new Reservoir();
let deliverySamples = new Reservoir();
let deliveries = 0;
let sent = 0;
let acked = 0;
let errors = 0;
/** Sends still waiting for their ack. */
let pending = 0;
/** Acks that came back before the load stopped: the rate the server kept up with. */
let ackedInWindow = 0;
let publishing = false;
let timers: NodeJS.Timeout[] = [];

function reply(message: WorkerReply): void {
  process.send!(message);
}

async function connect(command: Extract<WorkerCommand, { cmd: 'connect' }>): Promise<void> {
  const key = new TextEncoder().encode(command.secret);
  const startedAt = now();
  let failed = 0;
  const indexes = Array.from({ length: command.count }, (_, i) => command.firstIndex + i);
  // A bounded number of handshakes in flight, as real clients arriving would be.
  let next = 0;
  const opened: { socket: Socket; room: string }[] = [];
  const one = async (index: number): Promise<void> => {
    const token = await new SignJWT({ name: `user ${index}` })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(`u${index}`)
      .setExpirationTime('2h')
      .sign(key);
    const url = command.urls[index % command.urls.length];
    const socket = io(`${url}/chat`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 60_000,
    });
    await new Promise<void>((resolve) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', () => {
        failed += 1;
        socket.disconnect();
        resolve();
      });
    });
    if (socket.connected)
      opened.push({ socket, room: `room-${Math.floor(index / command.roomSize)}` });
  };
  await Promise.all(
    Array.from({ length: Math.min(command.concurrency, indexes.length) }, async () => {
      while (next < indexes.length) await one(indexes[next++]);
    }),
  );
  clients.push(...opened);
  for (const { socket } of opened) {
    socket.on('message:new', ({ text }: { text: string }) => {
      deliveries += 1;
      const sentAt = Number(text);
      if (sentAt > 0) deliverySamples.add(now() - sentAt);
    });
  }
  reply({ type: 'connected', connected: opened.length, failed, ms: now() - startedAt });
}

async function join(): Promise<void> {
  const results = await Promise.all(
    clients.map(({ socket, room }) =>
      socket
        .timeout(30_000)
        .emitWithAck('room:join', { room })
        .then(
          (ack: { ok: boolean }) => ack.ok,
          () => false,
        ),
    ),
  );
  reply({ type: 'joined', joined: results.filter(Boolean).length });
}

/** Sends one timestamped message; `then` runs once its ack (or its timeout) is in. */
function send(socket: Socket, room: string, then?: () => void): void {
  const sentAt = now();
  sent += 1;
  pending += 1;
  socket
    .timeout(30_000)
    .emit(
      'message:send',
      { room, text: String(sentAt) },
      (error: Error | null, ack?: { ok: boolean }) => {
        pending -= 1;
        if (error || !ack?.ok) errors += 1;
        else {
          acked += 1;
          ackSamples.add(now() - sentAt);
        }
        then?.();
      },
    );
}

function resetCounters(): void {
  ackSamples = new Reservoir();
  deliverySamples = new Reservoir();
  deliveries = 0;
  sent = 0;
  acked = 0;
  errors = 0;
  ackedInWindow = 0;
}

/** Every client sends `ratePerClient` messages a second, each at its own phase. */
function chat(command: Extract<WorkerCommand, { cmd: 'chat' }>): void {
  resetCounters();
  const everyMs = 1000 / command.ratePerClient;
  for (const { socket, room } of clients) {
    const start = setTimeout(() => {
      send(socket, room);
      timers.push(setInterval(() => send(socket, room), everyMs));
    }, Math.random() * everyMs);
    timers.push(start);
  }
}

/** The first client publishes as fast as its acks come back, `window` messages in flight. */
function publish(command: Extract<WorkerCommand, { cmd: 'publish' }>): void {
  resetCounters();
  const { socket, room } = clients[0];
  let inFlight = 0;
  publishing = true;
  const pump = (): void => {
    while (publishing && inFlight < command.window) {
      inFlight += 1;
      send(socket, room, () => {
        inFlight -= 1;
        pump();
      });
    }
  };
  pump();
  timers.push(setTimeout(() => (publishing = false), command.durationMs));
}

/** Stops sending, waits (up to 15 s) for the acks still due, then reports. */
async function stopAndReport(): Promise<void> {
  for (const timer of timers) clearTimeout(timer);
  timers = [];
  const deadline = Date.now() + 15_000;
  while (pending > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const cpu = process.cpuUsage();
  reply({
    ackedInWindow,
    unanswered: pending,
    type: 'report',
    sent,
    acked,
    errors,
    deliveries,
    ackSamples: ackSamples.values,
    deliverySamples: deliverySamples.values,
    cpuUs: cpu.user + cpu.system,
  });
}

function resetMeasure(): void {
  resetCounters();
  const cpu = process.cpuUsage();
  reply({ type: 'reset', cpuUs: cpu.user + cpu.system });
}

// The bench gone (killed, crashed): go too, with every client.
process.on('disconnect', () => process.exit(0));

process.on('message', (command: WorkerCommand) => {
  switch (command.cmd) {
    case 'connect':
      void connect(command);
      break;
    case 'join':
      void join();
      break;
    case 'reset':
      resetMeasure();
      break;
    case 'chat':
      chat(command);
      break;
    case 'publish':
      publish(command);
      break;
    case 'stop':
      for (const timer of timers) clearTimeout(timer);
      timers = [];
      publishing = false;
      ackedInWindow = acked;
      break;
    case 'deliveries':
      reply({ type: 'deliveries', deliveries });
      break;
    case 'report':
      void stopAndReport();
      break;
    case 'close':
      for (const { socket } of clients) socket.disconnect();
      clients = [];
      process.exit(0);
  }
});
