import { withDeadline } from './redis-exec.js';

/**
 * Commands the Socket.IO Redis adapters send without awaiting or catching them: publishes,
 * the streams adapter's session SET, and (un)subscriptions, which the sharded adapter sends
 * whenever a room appears or goes, and the others when a namespace adapter opens or closes.
 */
const FIRE_AND_FORGET = new Set<PropertyKey>([
  'publish',
  'PUBLISH',
  'sPublish',
  'SPUBLISH',
  'set',
  'SET',
  'subscribe',
  'SUBSCRIBE',
  'unsubscribe',
  'UNSUBSCRIBE',
  'pSubscribe',
  'PSUBSCRIBE',
  'pUnsubscribe',
  'PUNSUBSCRIBE',
  'sSubscribe',
  'SSUBSCRIBE',
  'sUnsubscribe',
  'SUNSUBSCRIBE',
]);

/**
 * Writes the sharded and streams adapters await before delivering a broadcast to local
 * sockets: a stalled Redis must not hold local delivery for longer than this.
 */
const AWAITED_WRITES = new Set<PropertyKey>(['sPublish', 'SPUBLISH', 'xAdd', 'XADD']);
const AWAITED_WRITE_DEADLINE_MS = 1000;

export interface GuardOptions {
  /** Called with each failure of a fire-and-forget command (logged at a sane rate). */
  readonly onError: (error: unknown) => void;
  /** Called with each client the adapter duplicates from this one (so it can be closed). */
  readonly onDuplicate?: (client: object) => object;
}

/**
 * The client as the adapters see it. `@socket.io/redis-adapter` calls `publish` without
 * awaiting it (and the streams adapter does the same with `PUBLISH` and `SET`): while Redis
 * is down each such call would become an unhandled rejection, which Node turns into a crash.
 * Here those calls get a rejection handler that reports the error; everything else passes
 * through untouched.
 */
export function guardAdapterClient<T extends object>(client: T, options: GuardOptions): T {
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(client, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let wrapped = cache.get(property);
      if (!wrapped) {
        wrapped = wrap(target, property, value as (...args: unknown[]) => unknown, options);
        cache.set(property, wrapped);
      }
      return wrapped;
    },
  });
}

function wrap(
  target: object,
  property: PropertyKey,
  method: (...args: unknown[]) => unknown,
  { onError, onDuplicate }: GuardOptions,
): (...args: unknown[]) => unknown {
  const awaited = AWAITED_WRITES.has(property);
  const unwatched = FIRE_AND_FORGET.has(property);
  if (awaited || unwatched) {
    return (...args) => {
      let result = method.apply(target, args);
      if (!(result instanceof Promise)) return result;
      if (awaited) result = withDeadline(result, AWAITED_WRITE_DEADLINE_MS, String(property));
      return unwatched
        ? (result as Promise<unknown>).catch((error: unknown) => onError(error))
        : result;
    };
  }
  if (property === 'duplicate' && onDuplicate) {
    // The streams adapter's readers loop on XREAD and retry at once on failure: with the
    // offline queue their retries wait for Redis to come back instead of spinning the CPU.
    return (...args) => {
      const overrides = typeof args[0] === 'object' && args[0] !== null ? args[0] : {};
      const duplicate = method.call(target, { ...overrides, disableOfflineQueue: false }) as object;
      return guardAdapterClient(onDuplicate(duplicate), { onError, onDuplicate });
    };
  }
  return method.bind(target);
}
