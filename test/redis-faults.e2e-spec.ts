import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'socket.io-client';
import { mintToken } from '../src/auth/token-minter.js';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type ChatMessage,
  type PresenceChange,
  type UserRef,
} from '../src/chat/chat.events.js';
import { closeAllClients, connectClient, record, waitFor } from './support/clients.js';
import { ack, joinRoom } from './support/cluster-harness.js';
import { eventually } from './support/eventually.js';
import {
  freePort,
  redisAvailable,
  startRedis,
  stopAllRedis,
  type RedisServer,
} from './support/redis.js';
import { killAllSpawned, runMainToExit, spawnApp, type SpawnedApp } from './support/spawn-app.js';

const NOTIFY_CLI = fileURLToPath(new URL('../dist/cli/notify.js', import.meta.url));
const SECRET = 'redis-faults-secret-long-enough-for-hs256-0123456789';

const readiness = (app: SpawnedApp) => () =>
  fetch(`${app.url}/health/ready`).then((res) => res.status);

async function chat(app: SpawnedApp, sub: string): Promise<Socket> {
  return connectClient(app.url, CHAT_NAMESPACE, {
    auth: { token: await mintToken({ secret: SECRET, sub, name: sub }) },
  });
}

beforeAll(() => {
  if (!redisAvailable())
    throw new Error('redis-server is not on PATH: apt-get install redis-server');
});
afterEach(async () => {
  closeAllClients();
  killAllSpawned();
  await stopAllRedis();
});

describe('Redis at start-up', () => {
  it('an unreachable REDIS_URL stops the start with a message naming it', async () => {
    const port = await freePort();
    const { code, stderr } = await runMainToExit({
      JWT_SECRET: SECRET,
      REDIS_URL: `redis://127.0.0.1:${port}`,
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`Redis at redis://127\\.0\\.0\\.1:${port} .*REDIS_URL`));
  });
});

describe('npm run notify', () => {
  it('an unreachable REDIS_URL makes it exit 1 at once, naming it', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [NOTIFY_CLI, '--user', 'a', '--type', 't'], {
      env: { PATH: process.env.PATH ?? '', REDIS_URL: `redis://127.0.0.1:${port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain('(REDIS_URL)');
  });
});

describe.each(['pubsub', 'sharded', 'streams'] as const)(
  'Redis killed mid-traffic and restarted (%s)',
  (adapter) => {
    let redis: RedisServer;
    let a: SpawnedApp;
    let b: SpawnedApp;

    beforeEach(async () => {
      redis = await startRedis();
      const env = {
        JWT_SECRET: SECRET,
        REDIS_URL: redis.url,
        REDIS_ADAPTER: adapter,
        WS_RATE_LIMIT_PER_S: '1000',
        // Without room history, messages need Redis only to cross instances.
        ROOM_HISTORY_SIZE: '0',
      };
      [a, b] = await Promise.all([spawnApp(env), spawnApp(env)]);
    });

    it('no instance exits, readiness goes 503 then 200, local delivery goes on, and messages cross again', async () => {
      const sender = await chat(a, 'sender');
      const localPeer = await chat(a, 'local');
      const remotePeer = await chat(b, 'remote');
      const leaver = await chat(b, 'leaver');
      for (const socket of [sender, localPeer, remotePeer, leaver]) await joinRoom(socket, 'ops');
      const local = record<ChatMessage>(localPeer, ChatEvent.MessageNew);
      const remote = record<ChatMessage>(remotePeer, ChatEvent.MessageNew);

      let sent = 0;
      const traffic = setInterval(
        () => sender.emit(ChatEvent.MessageSend, { room: 'ops', text: `t${sent++}` }),
        5,
      );
      const figures: Record<string, number | string> = { adapter };
      try {
        await waitFor(remotePeer, ChatEvent.MessageNew, { match: () => remote.length >= 20 });

        const sentAtKill = sent;
        const remoteAtKill = remote.length;
        const localAtKill = local.length;
        await redis.kill('SIGKILL');
        const killedAt = Date.now();
        await eventually(readiness(a), (status) => status === 503, 5000);
        figures.readiness503AfterMs = Date.now() - killedAt;
        await eventually(readiness(b), (status) => status === 503, 5000);
        // Local delivery goes on while Redis is down.
        await waitFor(localPeer, ChatEvent.MessageNew, {
          match: () => local.length >= localAtKill + 50,
        });
        expect((await fetch(`${a.url}/health/live`)).status).toBe(200);
        // A socket that leaves a room while Redis is down harms nobody (its room goes away too).
        leaver.disconnect();
        // Presence needs Redis: a clear error ack, not a hang.
        for (const [event, room] of [
          [ChatEvent.RoomJoin, 'new-room'],
          [ChatEvent.PresenceList, 'ops'],
        ] as const) {
          expect(await ack(localPeer, event, { room })).toMatchObject({
            ok: false,
            error: { code: 'INTERNAL' },
          });
        }

        await redis.restart();
        const restartedAt = Date.now();
        figures.sentWhileDown = sent - sentAtKill;
        figures.localWhileDown = local.length - localAtKill;
        figures.remoteWhileDown = remote.length - remoteAtKill;
        await eventually(readiness(a), (status) => status === 200, 10_000);
        await eventually(readiness(b), (status) => status === 200, 10_000);
        figures.readyAgainAfterRestartMs = Date.now() - restartedAt;
        figures.readiness503ForMs = Date.now() - killedAt;

        // Subscriptions were restored: with traffic still flowing, a message sent after
        // readiness came back crosses to the other instance within a few seconds.
        const sentWhenReady = sent;
        await waitFor<ChatMessage>(remotePeer, ChatEvent.MessageNew, {
          timeoutMs: 5000,
          match: (message) => Number(message.text.slice(1)) >= sentWhenReady,
        });
        figures.crossedAgainAfterRestartMs = Date.now() - restartedAt;

        // Redis came back empty: each instance writes its share of presence again, without
        // the socket that left during the outage.
        const presentIds = async (): Promise<string> => {
          const listed = await ack<{ users: UserRef[] }>(localPeer, ChatEvent.PresenceList, {
            room: 'ops',
          });
          return listed.ok
            ? listed.users
                .map((user) => user.id)
                .sort()
                .join(',')
            : listed.error.code;
        };
        await eventually(presentIds, (ids) => ids === 'local,remote,sender', 5000);
        figures.presenceBackAfterRestartMs = Date.now() - restartedAt;
        // The join refused during the outage left nobody behind.
        expect(await ack(localPeer, ChatEvent.RoomJoin, { room: 'new-room' })).toMatchObject({
          ok: true,
        });
        expect(await ack(localPeer, ChatEvent.PresenceList, { room: 'new-room' })).toEqual({
          ok: true,
          users: [{ id: 'local', name: 'local' }],
        });
      } finally {
        clearInterval(traffic);
      }

      if (process.env.FAULT_REPORT) process.stdout.write(`${JSON.stringify(figures)}\n`);
      for (const app of [a, b]) {
        expect(app.output()).not.toMatch(
          /UnhandledPromiseRejection|ERR_UNHANDLED_REJECTION|triggerUncaughtException/,
        );
        // Handler failures that only say Redis is away are rate-limited like the rest.
        expect(app.output()).not.toContain('"msg":"event handler failed"');
        // Errors are logged at a sane rate, not once per message.
        const errorLines = app
          .output()
          .split('\n')
          .filter((line) => line.includes('"msg":"redis error"'));
        expect(errorLines.length).toBeLessThan(30);
        expect(await app.stop('SIGTERM')).toBe(0);
      }
    });
  },
);

describe('an instance killed with SIGKILL', () => {
  it("leaves presence within PRESENCE_TTL_S, announced to the others, its users' status with it", async () => {
    const redis = await startRedis();
    const env = {
      JWT_SECRET: SECRET,
      REDIS_URL: redis.url,
      PRESENCE_TTL_S: '5',
    };
    const [a, b] = await Promise.all([spawnApp(env), spawnApp(env)]);
    const watcher = await chat(a, 'watcher');
    await joinRoom(watcher, 'lobby');
    const victim = await chat(b, 'victim');
    const joined = waitFor<PresenceChange>(watcher, ChatEvent.PresenceJoined);
    await joinRoom(victim, 'lobby');
    await joined;
    const stated = waitFor(watcher, ChatEvent.PresenceUpdated);
    await ack(victim, ChatEvent.PresenceUpdate, { room: 'lobby', state: { status: 'away' } });
    await stated;

    const left = waitFor<PresenceChange>(watcher, ChatEvent.PresenceLeft, { timeoutMs: 5000 });
    expect(await b.stop('SIGKILL')).toBeNull();
    expect(await left).toEqual({ room: 'lobby', user: { id: 'victim', name: 'victim' } });
    expect(await ack(watcher, ChatEvent.PresenceList, { room: 'lobby' })).toEqual({
      ok: true,
      users: [{ id: 'watcher', name: 'watcher' }],
    });
    // Its status went with it: back on another instance, the user has none.
    const back = await chat(a, 'victim');
    await joinRoom(back, 'lobby');
    const listed = await ack<{ users: UserRef[] }>(watcher, ChatEvent.PresenceList, {
      room: 'lobby',
    });
    expect(listed.ok && listed.users).toContainEqual({ id: 'victim', name: 'victim' });
  });
});

describe.each(['pubsub', 'sharded', 'streams'] as const)(
  'Redis stalled (SIGSTOP) then resumed (%s)',
  (adapter) => {
    it('a send answers INTERNAL within the command deadline, readiness goes 503, and its retry with the same clientMsgId is delivered once after SIGCONT', async () => {
      const redis = await startRedis();
      const env = { JWT_SECRET: SECRET, REDIS_URL: redis.url, REDIS_ADAPTER: adapter };
      const [a, b] = await Promise.all([spawnApp(env), spawnApp(env)]);
      const sender = await chat(a, 'sender');
      const localPeer = await chat(a, 'local');
      const remotePeer = await chat(b, 'remote');
      for (const socket of [sender, localPeer, remotePeer]) await joinRoom(socket, 'stall');

      const seen = [localPeer, remotePeer].map((peer) =>
        record<ChatMessage>(peer, ChatEvent.MessageNew),
      );
      const during = { room: 'stall', text: 'during the stall', clientMsgId: 'stall-1' };
      process.kill(redis.pid, 'SIGSTOP');
      try {
        // Room history needs Redis: the sender is told, not kept waiting.
        expect(await ack(sender, ChatEvent.MessageSend, during)).toMatchObject({
          ok: false,
          error: { code: 'INTERNAL' },
        });
        await eventually(readiness(a), (status) => status === 503, 5000);
      } finally {
        process.kill(redis.pid, 'SIGCONT');
      }
      await eventually(readiness(a), (status) => status === 200, 5000);
      // Whether the stalled write landed or not, the retry makes it exactly one message.
      expect(await ack(sender, ChatEvent.MessageSend, during)).toMatchObject({ ok: true });
      const crossed = waitFor<ChatMessage>(remotePeer, ChatEvent.MessageNew, {
        timeoutMs: 5000,
        match: (message) => message.text === 'after the stall',
      });
      await ack(sender, ChatEvent.MessageSend, { room: 'stall', text: 'after the stall' });
      await crossed;
      await eventually(
        () => seen[0].map((m) => m.text),
        (texts) => texts.includes('after the stall'),
        5000,
      );
      for (const messages of seen)
        expect(messages.filter((m) => m.text === 'during the stall')).toHaveLength(1);
      for (const app of [a, b]) expect(await app.stop('SIGTERM')).toBe(0);
    });
  },
);
