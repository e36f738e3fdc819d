import type { Socket } from 'socket.io';

interface BroadcastOpts {
  readonly rooms: ReadonlySet<string>;
  readonly except?: ReadonlySet<string>;
}

type Deliver = (socket: Socket) => void;

interface Recorded {
  readonly seq: number;
  readonly offset: string;
  readonly opts: BroadcastOpts;
  readonly deliver: Deliver;
  readonly at: number;
}

interface Pending {
  /** Stream entries the restored session already holds (its missed packets). */
  readonly delivered: Set<string>;
  /** The first log entry recorded after this restore began. */
  readonly fromSeq: number;
  readonly at: number;
}

interface Recovered {
  readonly delivered: Set<string>;
  readonly until: number;
}

/** What of the streams adapter this patch touches (socket.io-adapter's ClusterAdapter). */
interface StreamsAdapterInternals {
  onRawMessage(message: unknown, offset: string): void;
  restoreSession(pid: string, offset: string): Promise<{ missedPackets: unknown[][] } | null>;
  addOffsetIfNecessary(packet: unknown, opts: unknown, offset: string): void;
  apply(opts: BroadcastOpts, callback: Deliver): void;
}

/** How long a recovery's records live; a restored session whose socket never connects ends here. */
const KEEP_MS = 30_000;
/** A bound on the log, whatever the traffic: past it the oldest records go. */
const MAX_LOG = 50_000;
/**
 * A local broadcast waits for the stream reader to reach it. A reader that is only behind
 * keeps order; one that made no progress for `STUCK_MS` (Redis gone) releases what waits,
 * and nothing waits longer than `MAX_HOLD_MS`.
 */
const STUCK_MS = 1000;
const MAX_HOLD_MS = 10_000;

interface Held {
  readonly offset: string;
  readonly opts: BroadcastOpts;
  readonly deliver: Deliver;
  readonly at: number;
}

/**
 * Closes a gap in `@socket.io/redis-streams-adapter` 0.3 during connection state recovery.
 * The session is restored from the stream (its missed packets), then the socket is built and
 * put back in its rooms, then the middlewares run (auth, here), then it joins the namespace's
 * connected sockets. A broadcast delivered in between finds the socket in its rooms but not
 * connected and skips it: lost. A broadcast the restore already read can also be delivered
 * live after the connection (an instance's own messages reach its sockets only once their
 * XADD returns): twice.
 *
 * A recovered session holds what came after the client's last offset; that is only right if
 * every instance delivers in stream order. The adapter does not: an instance's own broadcasts
 * go to its sockets as soon as their XADD returns, ahead of earlier entries from other
 * instances still on their way through its reader. Here an own broadcast waits until the
 * reader has reached its entry (released after 1 s should the reader be stuck), so each
 * instance delivers in stream order.
 *
 * While a recovery is under way this records the broadcasts this instance delivers, with
 * their stream offsets. When the recovered socket connects it gets, in order, those meant
 * for its rooms that its session did not hold; for a while afterwards it is never sent an
 * offset it already has. Offsets are compared as a set, not as a position: entries from
 * several instances reach a socket in an order that is not the stream's.
 */
export class StreamsRecoveryCatchUp {
  private readonly log: Recorded[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly recovered = new Map<Socket, Recovered>();
  private restoring = 0;
  private seq = 0;
  private currentOffset: string | undefined;
  private pruner: NodeJS.Timeout | undefined;

  /** Patches one namespace's adapter instance; returns it. */
  patch<A extends object>(adapter: A): A {
    const target = adapter as unknown as StreamsAdapterInternals;
    const restore = target.restoreSession.bind(target);
    const addOffset = target.addOffsetIfNecessary.bind(target);
    const apply = target.apply.bind(target);
    const onRawMessage = target.onRawMessage.bind(target);
    /** The last stream entry this namespace's reader handled. */
    let position: string | undefined;
    let fromReader = false;
    const held: Held[] = [];
    let holdTimer: NodeJS.Timeout | undefined;
    let progressAt = Date.now();

    const deliverNow = (offset: string, opts: BroadcastOpts, deliver: Deliver): void => {
      if (this.restoring > 0 || this.pending.size > 0) {
        this.log.push({ seq: this.seq++, offset, opts, deliver, at: Date.now() });
        if (this.log.length > MAX_LOG) this.log.shift();
      }
      if (this.recovered.size === 0) return apply(opts, deliver);
      apply(opts, (socket) => {
        const recovered = this.recovered.get(socket);
        if (recovered) {
          if (recovered.delivered.has(offset)) return;
          recovered.delivered.add(offset);
        }
        deliver(socket);
      });
    };
    const release = (upTo: (entry: Held) => boolean): void => {
      while (held.length > 0 && upTo(held[0])) {
        const entry = held.shift()!;
        deliverNow(entry.offset, entry.opts, entry.deliver);
      }
      if (held.length === 0 && holdTimer) {
        clearInterval(holdTimer);
        holdTimer = undefined;
      }
    };
    const hold = (entry: Held): void => {
      let at = held.length;
      while (at > 0 && compareOffsets(held[at - 1].offset, entry.offset) > 0) at -= 1;
      held.splice(at, 0, entry);
      // A reader that is behind or stuck (Redis gone) must not hold local delivery for long.
      holdTimer ??= setInterval(() => {
        const now = Date.now();
        const stuck = now - progressAt >= STUCK_MS;
        release((e) => now - e.at >= MAX_HOLD_MS || (stuck && now - e.at >= STUCK_MS));
      }, STUCK_MS / 5);
      holdTimer.unref();
    };

    target.onRawMessage = (message, offset) => {
      release((entry) => compareOffsets(entry.offset, offset) <= 0);
      position = offset;
      progressAt = Date.now();
      fromReader = true;
      try {
        onRawMessage(message, offset);
      } finally {
        fromReader = false;
      }
    };
    target.restoreSession = async (pid, offset) => {
      this.restoring += 1;
      this.startPruning();
      const fromSeq = this.seq;
      try {
        const session = await restore(pid, offset);
        if (session) {
          const delivered = new Set(
            session.missedPackets.map(offsetOf).filter((id) => id !== undefined),
          );
          this.pending.set(pid, { delivered, fromSeq, at: Date.now() });
        }
        return session;
      } finally {
        this.restoring -= 1;
      }
    };
    target.addOffsetIfNecessary = (packet, opts, offset) => {
      this.currentOffset = offset;
      addOffset(packet, opts, offset);
    };
    target.apply = (opts, deliver) => {
      const offset = this.currentOffset;
      this.currentOffset = undefined;
      if (offset === undefined) return apply(opts, deliver);
      if (fromReader || (position !== undefined && compareOffsets(offset, position) <= 0)) {
        return deliverNow(offset, opts, deliver);
      }
      hold({ offset, opts, deliver, at: Date.now() });
    };
    return adapter;
  }

  /** Call from the namespace's `connection` listener: it runs in the same tick as the join. */
  onConnection(socket: Socket): void {
    if (!socket.recovered) return;
    const pid = (socket as unknown as { pid: string }).pid;
    const pending = this.pending.get(pid);
    if (!pending) return;
    this.pending.delete(pid);
    const { delivered } = pending;
    for (const entry of this.log) {
      if (entry.seq < pending.fromSeq || delivered.has(entry.offset)) continue;
      if (!meantFor(socket, entry.opts)) continue;
      entry.deliver(socket);
      delivered.add(entry.offset);
    }
    this.recovered.set(socket, { delivered, until: Date.now() + KEEP_MS });
    socket.once('disconnect', () => this.recovered.delete(socket));
    if (this.pending.size === 0 && this.restoring === 0) this.log.length = 0;
  }

  /** Pruning runs on a timer while anything is held, never on the broadcast path. */
  private startPruning(): void {
    if (this.pruner) return;
    this.pruner = setInterval(() => this.prune(), 1000);
    this.pruner.unref();
  }

  private prune(): void {
    const now = Date.now();
    let drop = 0;
    while (drop < this.log.length && now - this.log[drop].at > KEEP_MS) drop += 1;
    this.log.splice(0, drop);
    for (const [pid, pending] of this.pending)
      if (now - pending.at > KEEP_MS) this.pending.delete(pid);
    for (const [socket, recovered] of this.recovered)
      if (recovered.until < now) this.recovered.delete(socket);
    if (this.pending.size === 0 && this.restoring === 0) this.log.length = 0;
    if (this.pending.size === 0 && this.recovered.size === 0 && this.restoring === 0) {
      clearInterval(this.pruner);
      this.pruner = undefined;
    }
  }
}

/** The stream id the adapter appends to each packet it stores. */
function offsetOf(packet: unknown[]): string | undefined {
  const last = packet[packet.length - 1];
  return typeof last === 'string' ? last : undefined;
}

function meantFor(socket: Socket, { rooms, except }: BroadcastOpts): boolean {
  const included = rooms.size === 0 || [...rooms].some((room) => socket.rooms.has(room));
  const excluded = except !== undefined && [...socket.rooms].some((room) => except.has(room));
  return included && !excluded;
}

/** Orders Redis stream ids (`<ms>-<seq>`). */
export function compareOffsets(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number);
  const [bMs, bSeq] = b.split('-').map(Number);
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq;
}
