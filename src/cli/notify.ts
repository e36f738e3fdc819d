import { Emitter } from '@socket.io/redis-emitter';
import { createClient, createCluster } from 'redis';
import { CLASSIC_ADAPTER_KEY } from '../cluster/cluster-adapter.js';
import { eventId } from '../common/event-id.js';
import { parseCliArgs } from './cli-args.js';
import {
  NOTIFICATIONS_NAMESPACE,
  NotificationEvent,
  type NotificationsServerToClientEvents,
  userRoom,
} from '../notifications/notifications.events.js';

/**
 * `npm run notify -- --user alice --type invoice.paid [--data '{"invoiceId":"inv_42"}']`
 *
 * Sends a notification from outside the app, through Redis, with `@socket.io/redis-emitter`:
 * the way a worker or another service reaches users on whichever instance holds them. It
 * needs only `REDIS_URL` (the app's `/notifications` namespace always uses the classic adapter,
 * whose format the emitter speaks, whatever `REDIS_ADAPTER` the chat uses).
 */
const USAGE = `
Usage: npm run notify -- --user <user id> --type <type> [--data '<json>']

Sends a notification to every socket of a user, on whichever instance holds
them, from outside the app: it publishes through the cluster's Redis
(REDIS_URL, from the environment or .env, the same as the instances use).

  --user  the user id (the token's sub), required
  --type  the notification's type, e.g. invoice.paid, required
  --data  its payload as JSON (default: null)
  --help  this text
`;

const NO_CLUSTER = [
  'REDIS_URL is not set: npm run notify needs a cluster. It publishes through the Redis the',
  'instances share; a server started without REDIS_URL is alone, in memory, and hears nothing.',
  'For a cluster: start the instances with REDIS_URL (README, Scaling out) and run this with the same.',
  'With plain npm start: send yourself a notification from the demo page (POST /dev/notify).',
].join('\n');

async function main(): Promise<void> {
  const { values } = parseCliArgs(USAGE, {
    options: {
      user: { type: 'string' },
      type: { type: 'string' },
      data: { type: 'string', default: 'null' },
    },
  });
  const urls = (process.env.REDIS_URL ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  if (urls.length === 0) throw new Error(NO_CLUSTER);
  if (!values.user || !values.type) {
    throw new Error(
      '--user and --type are required, e.g. npm run notify -- --user alice --type test',
    );
  }
  const data: unknown = JSON.parse(values.data);
  // A one-shot script: no reconnecting forever; an unreachable Redis is an error, said once.
  const socket = { connectTimeout: 5000, reconnectStrategy: false as const };
  const client =
    urls.length > 1
      ? createCluster({
          rootNodes: urls.map((url) => ({ url, socket })),
          defaults: { socket },
          RESP: 2,
        })
      : createClient({ url: urls[0], RESP: 2, socket });
  let failure: unknown;
  client.on('error', (error: unknown) => void (failure ??= error));
  await client.connect().catch((error: unknown) => {
    throw new Error(
      `Redis at ${urls.join(',')} is unreachable: ${String(failure ?? error)} (REDIS_URL)`,
    );
  });
  // The emitter does not return its publish; keep it, so the client closes only once it is sent.
  const published: Promise<unknown>[] = [];
  const recording = new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const method = (value as (...args: unknown[]) => unknown).bind(target);
      return property === 'publish'
        ? (...args: unknown[]) => {
            const result = method(...args) as Promise<unknown>;
            published.push(result);
            return result;
          }
        : method;
    },
  });
  try {
    const emitter = new Emitter<NotificationsServerToClientEvents>(recording, {
      key: CLASSIC_ADAPTER_KEY,
    });
    const ts = Date.now();
    const notification = { id: eventId(ts), type: values.type, data, ts };
    emitter
      .of(NOTIFICATIONS_NAMESPACE)
      .to(userRoom(values.user))
      .emit(NotificationEvent.Notification, notification);
    await Promise.all(published);
    process.stdout.write(`${JSON.stringify(notification)}\n`);
  } finally {
    await client.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
