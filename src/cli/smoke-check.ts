import { randomUUID } from 'node:crypto';
import { Agent } from 'node:http';
import { io, type Socket } from 'socket.io-client';
import { mintToken } from '../auth/token-minter.js';
import { CHAT_NAMESPACE, ChatEvent, type ChatMessage } from '../chat/chat.events.js';
import type { Ack } from '../gateway/ws-error.js';

/**
 * A smoke check of a running deployment (the CLI is `smoke.ts`), from outside: health through the load balancer,
 * `clients` stock socket.io clients with default transports (long-polling first, then the
 * upgrade: this is what needs sticky sessions) and one client straight on each instance
 * given with `direct`, all in one room; every message must reach every other member exactly
 * once, and presence must list them all.
 *
 *   node dist/cli/smoke.js --url http://localhost:8080 [--direct http://app-1:3000,…]
 *                          [--clients 30] [--sources 16] [--timeout-ms 15000]
 *
 * `JWT_SECRET` signs the clients' tokens. `--sources N` binds the clients to N loopback
 * networks (127.1.0.1, 127.2.0.1, …) so a balancer hashing on the client address spreads
 * them over its instances (loopback only). Exits 0 when all is well; else prints what failed
 * and exits 1. `docker/compose.test.yml` runs it against the compose stack, and the tests
 * against `npm run start:cluster`.
 */

export interface SmokeOptions {
  readonly url: string;
  readonly direct?: readonly string[];
  readonly clients?: number;
  readonly sources?: number;
  readonly secret: string;
  readonly timeoutMs?: number;
  /** Keep cookies (a balancer's stickiness cookie), as a browser does. Default: true. */
  readonly cookies?: boolean;
  /** Default: socket.io's (long-polling, then the upgrade). `['websocket']` for a PaaS. */
  readonly transports?: readonly ('polling' | 'websocket')[];
}

export interface SmokeReport {
  readonly ok: boolean;
  readonly clients: number;
  readonly connected: number;
  /** Every `connect_error` seen, as `message (status): body`, e.g. "Session ID unknown". */
  readonly connectErrors: readonly string[];
  readonly disconnects: readonly string[];
  readonly messagesExpected: number;
  readonly messagesReceived: number;
  readonly duplicates: number;
  readonly presence: number;
  readonly problems: readonly string[];
}

interface Member {
  readonly socket: Socket;
  readonly agent: Agent | undefined;
  readonly received: Map<string, number>;
}

export async function runSmoke(options: SmokeOptions): Promise<SmokeReport> {
  const { url, direct = [], clients = 30, sources = 0, secret, timeoutMs = 15_000 } = options;
  const transports = options.transports ? { transports: [...options.transports] } : {};
  const problems: string[] = [];
  const connectErrors: string[] = [];
  const disconnects: string[] = [];
  const room = `smoke-${randomUUID().slice(0, 8)}`;
  const ready = await fetch(`${url}/health/ready`).then(
    (res) => res.status,
    (error: unknown) => `unreachable (${String(error)})`,
  );
  if (ready !== 200) problems.push(`GET ${url}/health/ready answered ${ready}`);

  const targets = [
    ...Array.from({ length: clients }, (_, i) => ({ base: url, source: sourceFor(i, sources) })),
    ...direct.map((base) => ({ base, source: undefined })),
  ];
  const members: Member[] = await Promise.all(
    targets.map(async ({ base, source }, i) => {
      const token = await mintToken({ secret, sub: `smoke-${i}`, name: `smoke ${i}`, ttlS: 600 });
      const agent = source ? new Agent({ localAddress: source, keepAlive: true }) : undefined;
      // Node-only options (typed for the browser by socket.io-client): a bound source
      // address, and a cookie jar (`withCredentials`) for cookie-based stickiness.
      const nodeOptions: Record<string, unknown> = source ? { localAddress: source, agent } : {};
      const socket = io(`${base}${CHAT_NAMESPACE}`, {
        auth: { token },
        forceNew: true,
        reconnection: false,
        withCredentials: options.cookies ?? true,
        ...transports,
        ...nodeOptions,
      });
      socket.on('connect_error', (error: Error & { description?: unknown; context?: unknown }) =>
        connectErrors.push(describeConnectError(error)),
      );
      socket.on('disconnect', (reason) => disconnects.push(`${base} ${reason}`));
      return { socket, agent, received: new Map<string, number>() };
    }),
  );
  try {
    await within(timeoutMs, 'every client connected and in the room', async () => {
      await Promise.all(
        members.map(async ({ socket }) => {
          if (!socket.connected) await onceOrError(socket, 'connect');
          const joined = (await socket
            .timeout(5000)
            .emitWithAck(ChatEvent.RoomJoin, { room })) as Ack;
          if (!joined.ok) throw new Error(`room:join answered ${joined.error.code}`);
        }),
      );
    });
    const connected = members.filter((m) => m.socket.connected).length;
    const expected = members.length * (members.length - 1);
    let delivered = 0;
    let allDelivered: () => void = () => undefined;
    const everyoneHasAll = new Promise<void>((resolve) => (allDelivered = resolve));
    for (const member of members) {
      member.socket.on(ChatEvent.MessageNew, (message: ChatMessage) => {
        const count = (member.received.get(message.text) ?? 0) + 1;
        member.received.set(message.text, count);
        if (count === 1 && ++delivered === expected) allDelivered();
      });
    }
    const texts = members.map((_, i) => `${room}:${i}`);
    await within(timeoutMs, 'every message acknowledged', () =>
      Promise.all(
        members.map(async ({ socket }, i) => {
          const sent = (await socket
            .timeout(5000)
            .emitWithAck(ChatEvent.MessageSend, { room, text: texts[i] })) as Ack;
          if (!sent.ok) throw new Error(`message:send answered ${sent.error.code}`);
        }),
      ),
    );
    await within(
      timeoutMs,
      'every message delivered to every other member',
      () => everyoneHasAll,
    ).catch((error: unknown) => problems.push(String(error)));
    const duplicates = members.reduce(
      (n, m) => n + [...m.received.values()].reduce((d, c) => d + Math.max(0, c - 1), 0),
      0,
    );
    const listed = (await members[0].socket
      .timeout(5000)
      .emitWithAck(ChatEvent.PresenceList, { room })) as Ack<{ users: unknown[] }>;
    const presence = listed.ok ? listed.users.length : 0;
    if (presence !== members.length)
      problems.push(`presence:list shows ${presence} users, not ${members.length}`);
    if (duplicates > 0) problems.push(`${duplicates} messages delivered twice`);
    if (connectErrors.length > 0) problems.push(`${connectErrors.length} connect errors`);
    if (disconnects.length > 0) problems.push(`${disconnects.length} unexpected disconnections`);
    return {
      ok: problems.length === 0,
      clients: members.length,
      connected,
      connectErrors: [...connectErrors],
      disconnects: [...disconnects],
      messagesExpected: expected,
      messagesReceived: delivered,
      duplicates,
      presence,
      problems,
    };
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    return {
      ok: false,
      clients: members.length,
      connected: members.filter((m) => m.socket.connected).length,
      connectErrors: [...connectErrors],
      disconnects: [...disconnects],
      messagesExpected: 0,
      messagesReceived: 0,
      duplicates: 0,
      presence: 0,
      problems,
    };
  } finally {
    for (const { socket, agent } of members) {
      socket.off('disconnect');
      socket.off('connect_error');
      socket.disconnect();
      agent?.destroy();
    }
  }
}

function sourceFor(index: number, sources: number): string | undefined {
  return sources > 0 ? `127.${1 + (index % sources)}.0.1` : undefined;
}

function describeConnectError(error: Error & { description?: unknown; context?: unknown }): string {
  const context = error.context as { responseText?: unknown; status?: unknown } | undefined;
  const body = typeof context?.responseText === 'string' ? `: ${context.responseText}` : '';
  const status = typeof error.description === 'number' ? ` (${error.description})` : '';
  return `${error.message}${status}${body}`;
}

function onceOrError(socket: Socket, event: string): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once(event, () => resolve());
    socket.once('connect_error', (error: Error) => reject(error));
  });
}

async function within<T>(ms: number, what: string, work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([work(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
