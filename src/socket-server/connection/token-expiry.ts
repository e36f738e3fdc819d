import type { Socket } from 'socket.io';

/** setTimeout's longest delay; a later expiry is reached in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Bucket {
  readonly sockets: Set<Socket>;
  timer?: NodeJS.Timeout;
}

/**
 * Disconnects each socket when its access token expires. The client then sees
 * "io server disconnect" and does not reconnect by itself: it needs a fresh token.
 *
 * One timer per expiry time, not per socket: a JWT's `exp` is in whole seconds, so sockets
 * whose tokens were minted in the same second share a bucket, and a server of 10,000
 * sockets holds a few hundred timers at most instead of 10,000 (with their closures).
 */
export class TokenExpiry {
  private readonly buckets = new Map<number, Bucket>();

  /** @param onExpired called for each socket just before it is disconnected */
  constructor(private readonly onExpired: (socket: Socket) => void) {}

  /** Disconnects `socket` at `expiresAt` (ms since the epoch), at once if that has passed. */
  track(socket: Socket, expiresAt: number): void {
    if (expiresAt <= Date.now()) return this.expire(socket);
    let bucket = this.buckets.get(expiresAt);
    if (!bucket) {
      bucket = { sockets: new Set() };
      this.buckets.set(expiresAt, bucket);
      this.arm(expiresAt, bucket);
    }
    bucket.sockets.add(socket);
  }

  /** The socket went before its token expired (call from its `disconnect` listener). */
  untrack(socket: Socket, expiresAt: number): void {
    const bucket = this.buckets.get(expiresAt);
    if (!bucket?.sockets.delete(socket) || bucket.sockets.size > 0) return;
    clearTimeout(bucket.timer);
    this.buckets.delete(expiresAt);
  }

  private arm(expiresAt: number, bucket: Bucket): void {
    const remaining = expiresAt - Date.now();
    if (remaining > 0) {
      bucket.timer = setTimeout(
        () => this.arm(expiresAt, bucket),
        Math.min(remaining, MAX_TIMER_MS),
      );
      bucket.timer.unref();
      return;
    }
    // Out of the map first: each disconnect below calls `untrack`, which then finds nothing.
    this.buckets.delete(expiresAt);
    for (const socket of bucket.sockets) if (socket.connected) this.expire(socket);
  }

  /**
   * Only this namespace's socket goes: the connection may carry other namespaces, on tokens
   * of their own (`disconnect(true)` would close it, and them with it).
   */
  private expire(socket: Socket): void {
    this.onExpired(socket);
    socket.disconnect();
  }
}
