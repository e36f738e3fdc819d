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
  /** The last stream entry the restored session already holds. */
  readonly floor: string;
  /** The first log entry recorded after this restore began. */
  readonly fromSeq: number;
  readonly at: number;
}

/** What of the streams adapter this patch touches (socket.io-adapter's ClusterAdapter). */
interface StreamsAdapterInternals {
  nsp: { _preConnectSockets?: Map<string, Socket> };
  restoreSession(pid: string, offset: string): Promise<{ missedPackets: unknown[][] } | null>;
  addOffsetIfNecessary(packet: unknown, opts: unknown, offset: string): void;
  apply(opts: BroadcastOpts, callback: Deliver): void;
}

const KEEP_MS = 30_000;

/**
 * Closes a gap in `@socket.io/redis-streams-adapter` 0.3 during connection state recovery.
 * The session is restored from the stream (missed packets up to entry N), then the socket is
 * built and put back in its rooms, then the middlewares run (auth, here), then it joins the
 * namespace's connected sockets. A broadcast delivered in between (entry N+1…) finds the
 * socket in its rooms but not connected and skips it: lost. A local broadcast published
 * before the restore but delivered after the connection arrives twice.
 *
 * While a recovery is under way this records the broadcasts this instance delivers (with
 * their stream offsets); when the recovered socket connects it receives, in order, those
 * after its session's last entry that were meant for its rooms, and for a while afterwards
 * any packet at or below what it already has is not sent to it again.
 */
export class StreamsRecoveryCatchUp {
  private readonly log: Recorded[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly floors = new Map<Socket, { offset: string; until: number }>();
  private restoring = 0;
  private seq = 0;
  private currentOffset: string | undefined;

  /** Patches one namespace's adapter instance; returns it. */
  patch<A extends object>(adapter: A): A {
    const target = adapter as unknown as StreamsAdapterInternals;
    const restore = target.restoreSession.bind(target);
    const addOffset = target.addOffsetIfNecessary.bind(target);
    const apply = target.apply.bind(target);
    target.restoreSession = async (pid, offset) => {
      this.restoring += 1;
      const fromSeq = this.seq;
      try {
        const session = await restore(pid, offset);
        if (session)
          this.pending.set(pid, {
            floor: lastOffset(session.missedPackets, offset),
            fromSeq,
            at: Date.now(),
          });
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
      if (offset === undefined || !this.active()) return apply(opts, deliver);
      this.prune();
      if (this.restoring > 0 || this.pending.size > 0) {
        this.log.push({ seq: this.seq++, offset, opts, deliver, at: Date.now() });
      }
      apply(opts, (socket) => {
        const floor = this.floors.get(socket);
        if (floor && compareOffsets(offset, floor.offset) <= 0) return;
        deliver(socket);
      });
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
    let floor = pending.floor;
    for (const entry of this.log) {
      if (entry.seq < pending.fromSeq || compareOffsets(entry.offset, floor) <= 0) continue;
      if (!meantFor(socket, entry.opts)) continue;
      entry.deliver(socket);
      floor = entry.offset;
    }
    this.floors.set(socket, { offset: floor, until: Date.now() + KEEP_MS });
    if (this.pending.size === 0 && this.restoring === 0) this.log.length = 0;
  }

  private active(): boolean {
    return this.restoring > 0 || this.pending.size > 0 || this.floors.size > 0;
  }

  private prune(): void {
    const now = Date.now();
    while (this.log.length > 0 && now - this.log[0].at > KEEP_MS) this.log.shift();
    for (const [pid, pending] of this.pending)
      if (now - pending.at > KEEP_MS) this.pending.delete(pid);
    for (const [socket, floor] of this.floors) if (floor.until < now) this.floors.delete(socket);
  }
}

/** The stream id of the newest missed packet (the adapter appends it to each), or the start. */
function lastOffset(missedPackets: unknown[][], from: string): string {
  const last = missedPackets[missedPackets.length - 1];
  const offset = last?.[last.length - 1];
  return typeof offset === 'string' ? offset : from;
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
