/**
 * A rolling deploy, for real: nginx with the shipped `docker/nginx.conf` (sticky by client
 * address) in front of two `node dist/main.js`
 * instances joined through Redis, 200 stock socket.io clients in rooms of 10 sending
 * steadily, and SIGTERM to one instance. Every client must come back on the survivor with
 * nothing but the stock client's reconnection, re-join its room with `since` (the room resume
 * the demo page uses), and every message is counted: none lost, none twice, on every adapter.
 *
 * `DRAIN_REPORT=1 npm run test:e2e -- rolling-deploy` prints the figures.
 */
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { jest } from '@jest/globals';
import { io, type Socket } from 'socket.io-client';
import { mintToken } from '../src/auth/token-minter.js';
import { renderNginxConfig } from '../tools/balancer-config.js';
import { drainSpreadMs } from '../src/socket-server/connection/drain-schedule.js';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatMessage,
  type JoinResult,
} from '../src/chat/chat.events.js';
import { RoomResume } from '@nest-realtime-starter/client';
import type { Ack } from '../src/gateway/ws-error.js';
import { eventually } from './support/eventually.js';
import {
  available,
  type Balancer,
  killAllBalancers,
  NGINX,
  startNginx,
} from './support/balancers.js';
import { redisAvailable, type RedisServer, startRedis, stopAllRedis } from './support/redis.js';
import { killAllSpawned, type SpawnedApp, spawnApp } from './support/spawn-app.js';

const SECRET = 'rolling-deploy-secret-long-enough-for-hs256-0123456789';
const CLIENTS = 200;
const ROOM_SIZE = 10;
const DRAIN_MS = 6000;
const SEND_EVERY_MS = 1000;
const ACK_TIMEOUT_MS = 10_000;
/** The balancer hashes the client address: clients bind to 127.N.0.1 to spread over both. */
const SOURCE_NETWORKS = 64;
const REPORT = process.env.DRAIN_REPORT === '1';

/** The shipped `docker/nginx.conf`, listening on `port`, in front of `upstreams`. */
function nginxConfig(upstreams: string[]): (port: number) => string {
  const template = readFileSync(new URL('../docker/nginx.conf', import.meta.url), 'utf8');
  return (port) => renderNginxConfig(template, { listen: `127.0.0.1:${port}`, upstreams });
}

/** One user: joins its room, sends a numbered message every second while it is in it. */
class Peer {
  readonly socket: Socket;
  readonly room: string;
  /** Message texts this peer sent that the server acknowledged. */
  readonly acked: string[] = [];
  /** Sends that got no answer (the connection went in between): fate unknown. */
  unanswered = 0;
  refused = 0;
  /** How many times each text arrived. */
  readonly received = new Map<string, number>();
  readonly outOfOrder: string[] = [];
  readonly presenceChanges: string[] = [];
  drainNotices = 0;
  /** `connect`, `draining` and `disconnect` in the order this client saw them. */
  readonly timeline: string[] = [];
  disconnects: string[] = [];
  connects: number[] = [];
  /** `socket.recovered` on each connect after the first. */
  recoveries: boolean[] = [];
  /** Each re-join with `since`: whether the server had everything after it. */
  readonly resumed: boolean[] = [];
  private readonly agent: Agent;
  private readonly resume = new RoomResume();
  private lastSeq = new Map<string, number>();
  private seq = 0;
  private inRoom = false;
  private timer: NodeJS.Timeout | undefined;
  private pending = 0;
  private idle: (() => void) | undefined;

  constructor(
    readonly index: number,
    url: string,
    token: string,
  ) {
    this.room = `room-${index % (CLIENTS / ROOM_SIZE)}`;
    const localAddress = `127.${1 + (index % SOURCE_NETWORKS)}.0.1`;
    this.agent = new Agent({ localAddress, keepAlive: true });
    // Stock client, default transports (polling, then the upgrade) and default reconnection.
    // `localAddress` (WebSocket) and an agent bound to it (polling) are passed through to
    // Node's HTTP client; socket.io-client types `agent` for the browser only.
    const nodeOptions: Record<string, unknown> = {
      localAddress,
      agent: this.agent,
    };
    this.socket = io(`${url}${CHAT_NAMESPACE}`, {
      auth: { token },
      forceNew: true,
      ...nodeOptions,
    });
    this.socket.on('connect', () => {
      this.timeline.push('connect');
      if (this.connects.push(Date.now()) > 1) this.recoveries.push(this.socket.recovered === true);
      // Also when recovered: message:new is resumed from room history, not by Socket.IO.
      void this.join();
    });
    this.socket.on('disconnect', (reason) => {
      this.timeline.push('disconnect');
      this.inRoom = false;
      this.disconnects.push(reason);
    });
    this.socket.on(ChatEvent.ServerDraining, () => {
      this.timeline.push('draining');
      this.drainNotices++;
    });
    this.socket.on(ChatEvent.MessageNew, (message: ChatMessage) => {
      for (const shown of this.resume.accept(message)) this.onMessage(shown);
    });
    for (const event of [ChatEvent.PresenceJoined, ChatEvent.PresenceLeft])
      this.socket.on(event, ({ user }: { user: { id: string } }) =>
        this.presenceChanges.push(`${event} ${user.id}`),
      );
  }

  get joined(): boolean {
    return this.inRoom;
  }

  startSending(): void {
    const tick = (): void => {
      if (this.inRoom) this.send(`${this.index}:${++this.seq}`);
    };
    this.timer = setTimeout(() => {
      tick();
      this.timer = setInterval(tick, SEND_EVERY_MS);
    }, Math.random() * SEND_EVERY_MS);
  }

  /** Stops sending and resolves once every send has its answer (or its timeout). */
  stopSending(): Promise<void> {
    clearTimeout(this.timer);
    clearInterval(this.timer);
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => (this.idle = resolve));
  }

  close(): void {
    void this.stopSending();
    this.socket.disconnect();
    this.agent.destroy();
  }

  async sendAcked(text: string): Promise<void> {
    const result = (await this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck(ChatEvent.MessageSend, { room: this.room, text })) as Ack;
    if (!result.ok) throw new Error(`${text} refused: ${result.error.code}`);
  }

  ackedSince(at: number): boolean {
    return this.lastAckAt >= at;
  }

  private lastAckAt = 0;

  private send(text: string): void {
    this.pending += 1;
    this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emit(ChatEvent.MessageSend, { room: this.room, text }, (error: Error | null, ack: Ack) => {
        if (error) this.unanswered += 1;
        else if (ack.ok) {
          this.acked.push(text);
          this.lastAckAt = Date.now();
        } else this.refused += 1;
        this.pending -= 1;
        if (this.pending === 0) this.idle?.();
      });
  }

  private async join(): Promise<void> {
    const payload = this.resume.joinPayload(this.room);
    const result = (await this.socket
      .timeout(ACK_TIMEOUT_MS)
      .emitWithAck(ChatEvent.RoomJoin, payload)
      .catch(() => undefined)) as Ack<JoinResult> | undefined;
    if (!result?.ok) {
      for (const message of this.resume.joinFailed(this.room)) this.onMessage(message);
      return;
    }
    if (payload.since) this.resumed.push(result.recovered === true);
    for (const message of this.resume.joined(this.room, result)) this.onMessage(message);
    if (this.socket.connected) this.inRoom = true;
  }

  private onMessage({ text }: ChatMessage): void {
    const count = (this.received.get(text) ?? 0) + 1;
    this.received.set(text, count);
    // A second copy is counted as a duplicate, not as disorder.
    if (count > 1) return;
    const [sender, seq] = text.split(':');
    if (seq === 'fence') return;
    const n = Number(seq);
    if (n <= (this.lastSeq.get(sender) ?? 0)) this.outOfOrder.push(text);
    this.lastSeq.set(sender, n);
  }
}

const chatSockets = async (app: SpawnedApp): Promise<number> => {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  const match = /^ws_connected_sockets\{namespace="\/chat"\} (\d+)/m.exec(text);
  return match ? Number(match[1]) : NaN;
};

/** When `app` logged `event` for a `/chat` socket of one of `users`, in ms after `since`, sorted. */
function loggedTimes(
  app: SpawnedApp,
  event: 'connected' | 'disconnected',
  users: ReadonlySet<string>,
  since: number,
): number[] {
  return app
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map(
      (line) =>
        JSON.parse(line) as { event?: string; namespace?: string; userId?: string; time: string },
    )
    .filter(
      (entry) =>
        entry.event === event &&
        entry.namespace === CHAT_NAMESPACE &&
        users.has(entry.userId ?? ''),
    )
    .map((entry) => Date.parse(entry.time) - since)
    .filter((at) => at >= 0)
    .sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

// Each test's own waits (joins, the drain, the fence) add up to a minute on a loaded machine.
jest.setTimeout(90_000);

beforeAll(() => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
  if (!available(NGINX)) throw new Error('nginx is not on PATH: apt-get install nginx');
});

describe.each(['streams', 'sharded', 'pubsub'] as const)(
  'a rolling deploy behind nginx (%s)',
  (adapter) => {
    let redis: RedisServer;
    let nginx: Balancer | undefined;
    let peers: Peer[] = [];

    afterAll(async () => {
      for (const peer of peers) peer.close();
      killAllSpawned();
      await nginx?.stop();
      killAllBalancers();
      await stopAllRedis();
    });

    it('every client moves to the survivor by stock reconnection; messages counted', async () => {
      redis = await startRedis();
      const env = {
        JWT_SECRET: SECRET,
        REDIS_URL: redis.url,
        REDIS_ADAPTER: adapter,
        SHUTDOWN_DRAIN_MS: String(DRAIN_MS),
        WS_RATE_LIMIT_PER_S: '100',
        WS_RATE_LIMIT_BURST: '100',
      };
      const [leaving, staying] = await Promise.all([spawnApp(env), spawnApp(env)]);
      const balancer = await startNginx(
        nginxConfig([leaving, staying].map((app) => new URL(app.url).host)),
      );
      nginx = balancer;

      peers = await Promise.all(
        Array.from({ length: CLIENTS }, async (_, i) => {
          const token = await mintToken({ secret: SECRET, sub: `u${i}`, name: `user ${i}` });
          return new Peer(i, balancer.url, token);
        }),
      );
      await eventually(
        () => peers.filter((peer) => peer.joined).length,
        (joined) => joined === CLIENTS,
        20_000,
      );
      const [onLeaving, onStaying] = [await chatSockets(leaving), await chatSockets(staying)];
      expect(onLeaving + onStaying).toBe(CLIENTS);
      // Hashing 64 source addresses puts a good share on each instance.
      expect(Math.min(onLeaving, onStaying)).toBeGreaterThan(CLIENTS * 0.25);

      // Steady traffic: every peer has had a message acknowledged before the signal.
      const trafficFrom = Date.now();
      for (const peer of peers) peer.startSending();
      await eventually(
        () => peers.filter((peer) => peer.ackedSince(trafficFrom)).length,
        (count) => count === CLIENTS,
        10_000,
      );
      const presenceBefore = peers.reduce((n, peer) => n + peer.presenceChanges.length, 0);

      const signalledAt = Date.now();
      const exited = leaving.stop('SIGTERM').then((code) => ({ code, at: Date.now() }));
      // At once: readiness 503 (as soon as the signal is handled), liveness still 200, a direct
      // handshake 503.
      // Bounds a hang, not a speed: a loaded machine can take a second to deliver the signal.
      await eventually(
        () => fetch(`${leaving.url}/health/ready`).then((res) => res.status),
        (status) => status === 503,
        5000,
      );
      expect((await fetch(`${leaving.url}/health/live`)).status).toBe(200);
      const handshake = await fetch(`${leaving.url}/socket.io/?EIO=4&transport=polling`);
      expect(handshake.status).toBe(503);
      // Every client on the leaving instance is told, none on the other.
      const drained = await eventually(
        () => peers.filter((peer) => peer.drainNotices > 0),
        (told) => told.length === onLeaving,
        5000,
      );

      // Every drained client is let go ("transport close") and connects again by itself.
      await eventually(
        () => drained.filter((peer) => peer.connects.length === 2 && peer.joined).length,
        (back) => back === drained.length,
        DRAIN_MS + 10_000,
      );
      const exit = await exited;
      expect(exit.code).toBe(0);
      const exitedAfterMs = exit.at - signalledAt;
      expect(exitedAfterMs).toBeLessThan(DRAIN_MS + 5000);
      expect(await chatSockets(staying)).toBe(CLIENTS);
      expect(new Set(drained.flatMap((peer) => peer.disconnects))).toEqual(
        new Set(['transport close']),
      );
      expect(
        peers.filter((peer) => !drained.includes(peer)).every((p) => p.disconnects.length === 0),
      ).toBe(true);
      // When the leaving instance let each one go and the survivor took it back, from their
      // own log lines: what they did, not when this busy process got round to noticing.
      const movers = new Set(drained.map((peer) => `u${peer.index}`));
      const departures = await eventually(
        () => loggedTimes(leaving, 'disconnected', movers, signalledAt),
        (times) => times.length === drained.length,
        5000,
      );
      const reconnects = await eventually(
        () => loggedTimes(staying, 'connected', movers, signalledAt),
        (times) => times.length === drained.length,
        5000,
      );
      // Let go over the spread (3 s of the 6 s window), not at once.
      const spread = drainSpreadMs(DRAIN_MS);
      expect(percentile(departures, 0.9) - percentile(departures, 0.1)).toBeGreaterThan(
        spread * 0.5,
      );
      expect(departures.at(-1)).toBeLessThan(spread + 1000);
      // Reconnections follow (the stock client waits 0.5–1.5 s): few in the first second, where
      // closing everyone at once would put half of them.
      expect(reconnects.filter((at) => at < 1000).length).toBeLessThan(drained.length / 4);
      // Everyone let go at once would still spread over the client's own 0.5–1.5 s wait (p10
      // to p90 ≈ 0.8 s); the drain spreads them over its 3 s, less what a loaded machine eats.
      expect(percentile(reconnects, 0.9) - percentile(reconnects, 0.1)).toBeGreaterThan(
        DRAIN_MS * 0.2,
      );

      // Traffic on the survivor, then every sender stops and a fence closes the count.
      const backAt = Date.now();
      await eventually(
        () => peers.filter((peer) => peer.ackedSince(backAt)).length,
        (count) => count === CLIENTS,
        10_000,
      );
      await Promise.all(peers.map((peer) => peer.stopSending()));
      await Promise.all(peers.map((peer) => peer.sendAcked(`${peer.index}:fence`)));
      const roommates = (peer: Peer) => peers.filter((p) => p.room === peer.room && p !== peer);
      await eventually(
        () =>
          peers.filter((peer) =>
            roommates(peer).every((p) => peer.received.has(`${p.index}:fence`)),
          ).length,
        (fenced) => fenced === CLIENTS,
        10_000,
      );

      let expected = 0;
      let lost = 0;
      let duplicated = 0;
      for (const peer of peers) {
        for (const mate of roommates(peer)) {
          expected += mate.acked.length;
          lost += mate.acked.filter((text) => !peer.received.has(text)).length;
        }
        for (const count of peer.received.values()) if (count > 1) duplicated += count - 1;
      }
      const outOfOrder = peers.reduce((n, peer) => n + peer.outOfOrder.length, 0);
      const presenceFlaps =
        peers.reduce((n, peer) => n + peer.presenceChanges.length, 0) - presenceBefore;
      const figures = {
        adapter,
        clients: CLIENTS,
        drained: drained.length,
        drainWindowMs: DRAIN_MS,
        reconnectMs: {
          first: reconnects[0],
          p10: percentile(reconnects, 0.1),
          p50: percentile(reconnects, 0.5),
          p90: percentile(reconnects, 0.9),
          last: reconnects.at(-1),
        },
        exitedAfterMs,
        deliveriesExpected: expected,
        lost,
        duplicated,
        outOfOrder,
        presenceFlaps,
        unanswered: peers.reduce((n, peer) => n + peer.unanswered, 0),
        refused: peers.reduce((n, peer) => n + peer.refused, 0),
      };
      if (REPORT) process.stdout.write(`rolling deploy: ${JSON.stringify(figures)}\n`);

      expect(figures.refused).toBe(0);
      // Told exactly once, before being let go: never after, on the instance it moved to (a
      // notice stored for connection state recovery would be replayed there).
      const notices = drained.map((peer) => peer.timeline.join(' '));
      expect(
        notices.filter((line) => !/^connect draining disconnect( connect)?$/.test(line)),
      ).toEqual([]);
      expect(peers.filter((peer) => !drained.includes(peer) && peer.drainNotices > 0)).toEqual([]);
      // Users who moved were never announced offline and back.
      expect(presenceFlaps).toBe(0);
      // Room history: whatever a member missed while it moved comes with its re-join, as what
      // followed its last offset (not as a last page that happened to cover the gap).
      expect(drained.every((peer) => peer.resumed.length >= 1)).toBe(true);
      expect(peers.flatMap((peer) => peer.resumed).filter((whole) => !whole)).toEqual([]);
      expect(lost).toBe(0);
      expect(duplicated).toBe(0);
      expect(outOfOrder).toBe(0);
      // Pub/sub keeps no session. (Streams recovers the sockets that had received a broadcast
      // with an offset, such as a presence change; messages are resumed from history either way.)
      if (adapter !== 'streams') expect(drained.every((peer) => !peer.recoveries[0])).toBe(true);
    });
  },
);
