import type { Socket } from 'socket.io';
import { recoveryPid } from '../compat/socket-io.js';
import {
  BROADCAST_MESSAGE,
  type BroadcastOpts,
  streamsAdapterInternals,
} from '../compat/streams-adapter.js';
import { type ReaderProgress, StreamOrder } from './stream-order.js';

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

/** How long a recovery's records live; a restored session whose socket never connects ends here. */
const KEEP_MS = 30_000;
/** A bound on the log, whatever the traffic: past it the oldest records go. */
const MAX_LOG = 50_000;
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
 * every instance delivers in stream order, which `StreamOrder` sees to.
 *
 * While a recovery is under way this records the broadcasts this instance delivers, with
 * their stream offsets. When the recovered socket connects it gets, in order, those meant
 * for its rooms that its session did not hold; for a while afterwards it is never sent an
 * offset it already has. Offsets are compared as a set, not as a position: should Redis fail,
 * a held broadcast is let go out of order rather than late.
 */
export class StreamsRecoveryCatchUp {
  private readonly log: Recorded[] = [];
  private readonly pending = new Map<string, Pending>();
  private readonly recovered = new Map<Socket, Recovered>();
  private restoring = 0;
  private seq = 0;
  private currentOffset: string | undefined;
  private pruner: NodeJS.Timeout | undefined;

  /**
   * @param progress shared by every namespace on the same stream reader
   * @param onError told of an error thrown while a stream entry was delivered
   */
  constructor(
    private readonly progress: ReaderProgress = { at: performance.now() },
    private readonly onError?: (error: unknown) => void,
  ) {}

  /** Patches one namespace's adapter instance; returns it. */
  patch<A extends object>(adapter: A): A {
    const target = streamsAdapterInternals(adapter);
    const restore = target.restoreSession.bind(target);
    const addOffset = target.addOffsetIfNecessary.bind(target);
    const apply = target.apply.bind(target);
    const publish = target.publishAndReturnOffset.bind(target);
    const onRawMessage = target.onRawMessage.bind(target);
    let fromReader = false;
    const order = new StreamOrder(
      target.uid,
      (message, offset) => {
        fromReader = true;
        try {
          onRawMessage(message, offset);
        } finally {
          fromReader = false;
        }
      },
      this.progress,
      this.onError,
    );

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

    target.onRawMessage = (message, offset) => order.onEntry(message, offset);
    target.publishAndReturnOffset = (message) => {
      const offset = publish(message);
      // Only stored broadcasts (no ack requested) get an offset and a local delivery.
      if (message.type !== BROADCAST_MESSAGE || message.data?.requestId !== undefined)
        return offset;
      const settled = order.published();
      return offset.then(
        (value) => {
          settled(value);
          return value;
        },
        (error: unknown) => {
          settled(undefined);
          throw error;
        },
      );
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
      order.deliver(
        offset,
        offset === undefined ? () => apply(opts, deliver) : () => deliverNow(offset, opts, deliver),
        fromReader,
      );
    };
    return adapter;
  }

  /** Call from the namespace's `connection` listener: it runs in the same tick as the join. */
  onConnection(socket: Socket): void {
    if (!socket.recovered) return;
    const pid = recoveryPid(socket);
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
