/**
 * Makes one namespace's streams adapter deliver to its local sockets in stream order.
 *
 * Connection state recovery replays every entry after the offset of the last packet a
 * client got. That is exactly-once only if each instance hands its sockets the stream's
 * entries in stream order: a packet that arrives after a later one moves the client's
 * offset back, and its recovery replays the later one a second time.
 *
 * `@socket.io/redis-streams-adapter` 0.3 does not keep that order for an instance's own
 * broadcasts. It delivers them locally when their XADD returns, while the other instances'
 * entries come through the stream reader on another connection. Either side can be first:
 * - the XADD returns before the reader reaches the entry: the broadcast is held until the
 *   reader gets there;
 * - the reader reaches the entry while its XADD is still in flight: the reader pauses (what
 *   it reads meanwhile is queued) until that XADD settles and its broadcast is delivered.
 *
 * Redis going away must not stop local delivery for long. A held broadcast is let go once
 * the reader made no progress for `STUCK_MS`, and after `MAX_HOLD_MS` whatever happens; a
 * pause ends when its XADD settles (the client guard gives it a deadline) or after
 * `STUCK_MS`. These clocks count this process's running time (`runningTimeout`): after a
 * stall of its own (a long GC, a paused process) the answers waiting to be read come first,
 * so a stall alone never looks like a stuck reader.
 */

import { type RunningTimeout, runningTimeout } from '../common/running-time.js';
import { BROADCAST_MESSAGE, type RawEntry } from '../compat/streams-adapter.js';

/** A local delivery of one broadcast (the adapter's `apply` callback, bound to its packet). */
export type Delivery = () => void;

const STUCK_MS = 1000;
const MAX_HOLD_MS = 10_000;
/** How often held broadcasts are checked against the clocks above. */
const CHECK_EVERY_MS = STUCK_MS / 5;
/** `BROADCAST_MESSAGE` as the stream stores it: a string field. */
const BROADCAST_TYPE = String(BROADCAST_MESSAGE);

interface Held {
  readonly offset: string;
  readonly deliver: Delivery;
  readonly at: number;
}

/** An own broadcast sent to Redis and not yet delivered locally. */
interface InFlight {
  /** Its stream id, once its XADD answered. */
  offset?: string;
}

/** The reader reached an own entry (the queue's first) that is not delivered locally yet. */
interface Pause {
  readonly queue: [message: RawEntry, offset: string][];
  readonly timeout: RunningTimeout;
}

/**
 * When the stream reader last handed on an entry. One reader serves every namespace on the
 * stream, so the namespaces share this: a reader busy with another namespace's entries is
 * not stuck.
 */
export interface ReaderProgress {
  at: number;
  /**
   * The newest entry the reader handed on, in any namespace. Every entry before it was read:
   * a held broadcast of another namespace that the reader never handed on (stored before
   * its first read) has been passed.
   */
  offset?: string;
}

export class StreamOrder {
  /** The last entry the reader handed on. */
  private position: string | undefined;
  private readonly held: Held[] = [];
  /** In sending order, which is stream order: XADDs answer in order on one connection. */
  private readonly inFlight: InFlight[] = [];
  private pause: Pause | undefined;
  private checker: NodeJS.Timeout | undefined;
  /** The newest stream id an XADD of this instance answered with. */
  private lastAnswered: string | undefined;

  /**
   * @param uid the adapter's own id, as it writes it into its entries
   * @param read hands an entry on to the adapter (its original `onRawMessage`)
   * @param progress shared by the namespaces the same reader serves
   * @param onError told of an error thrown while an entry was handed on (a listener's bug);
   *   the entries after it are still handed on
   */
  constructor(
    private readonly uid: string,
    private readonly read: (message: RawEntry, offset: string) => void,
    private readonly progress: ReaderProgress = { at: performance.now() },
    private readonly onError: (error: unknown) => void = rethrowLater,
  ) {}

  /** The reader got `offset`. */
  onEntry(message: RawEntry, offset: string): void {
    if (this.pause) this.pause.queue.push([message, offset]);
    else if (this.isOwnBroadcast(message) && this.awaited(offset)) this.pauseAt(message, offset);
    else this.proceed(message, offset);
  }

  /**
   * An own broadcast goes out to Redis. Call what this returns with its stream id when its
   * XADD answers, or with nothing when it failed; then `deliver` it.
   */
  published(): (offset: string | undefined) => void {
    const entry: InFlight = {};
    this.inFlight.push(entry);
    return (offset) => {
      if (offset === undefined) this.forget(entry);
      else {
        entry.offset = offset;
        this.lastAnswered = offset;
      }
      this.resumeIfFree();
    };
  }

  /**
   * A broadcast is ready for local delivery, stored at `offset` (or not stored at all: Redis
   * failed, so it has no place in the stream and goes at once).
   */
  deliver(offset: string | undefined, deliver: Delivery, fromReader: boolean): void {
    if (offset === undefined || fromReader) return deliver();
    const entry = this.inFlight.find((e) => e.offset === offset);
    if (entry) this.forget(entry);
    if (this.reached(offset)) deliver();
    else this.hold({ offset, deliver, at: performance.now() });
    this.resumeIfFree();
  }

  private isOwnBroadcast(message: RawEntry): boolean {
    return message.uid === this.uid && message.type === BROADCAST_TYPE;
  }

  /**
   * Whether the reader must wait at own entry `offset`: it is not held (delivered when the
   * reader gets there), and its XADD answered but its broadcast is not delivered yet, or an
   * XADD that may be it has not answered. One that may not: answers come in sending order,
   * so an XADD still unanswered after one answered past `offset` was stored after `offset`
   * (which is then an XADD that failed on its deadline but was stored, delivered already).
   */
  private awaited(offset: string): boolean {
    if (this.held.some((entry) => entry.offset === offset)) return false;
    const unansweredMayBeIt =
      this.lastAnswered === undefined || compareOffsets(offset, this.lastAnswered) > 0;
    return this.inFlight.some((entry) =>
      entry.offset === undefined ? unansweredMayBeIt : entry.offset === offset,
    );
  }

  private reached(offset: string): boolean {
    return this.position !== undefined && compareOffsets(offset, this.position) <= 0;
  }

  private forget(entry: InFlight): void {
    const at = this.inFlight.indexOf(entry);
    if (at >= 0) this.inFlight.splice(at, 1);
  }

  private pauseAt(message: RawEntry, offset: string): void {
    const pause: Pause = {
      queue: [[message, offset]],
      timeout: runningTimeout(() => this.pause === pause && this.resume(), STUCK_MS),
    };
    this.pause = pause;
  }

  private resumeIfFree(): void {
    if (this.pause && !this.awaited(this.pause.queue[0][1])) this.resume();
  }

  private proceed(message: RawEntry, offset: string): void {
    this.release((entry) => compareOffsets(entry.offset, offset) <= 0);
    this.position = offset;
    this.progress.at = performance.now();
    if (this.progress.offset === undefined || compareOffsets(offset, this.progress.offset) > 0)
      this.progress.offset = offset;
    // Passed without waiting for it (a pause that timed out): its delivery will go at once.
    while (this.inFlight[0]?.offset !== undefined && this.reached(this.inFlight[0].offset))
      this.inFlight.shift();
    // Outside the reader's loop (a resumed queue), a throw would drop the entries after it.
    try {
      this.read(message, offset);
    } catch (error) {
      this.onError(error);
    }
  }

  /** Hands on the entry the reader paused at (whatever became of its XADD), then the queue. */
  private resume(): void {
    const pause = this.pause;
    if (!pause) return;
    pause.timeout.cancel();
    this.pause = undefined;
    const [[message, offset], ...rest] = pause.queue;
    this.proceed(message, offset);
    for (let i = 0; i < rest.length; i++) {
      this.onEntry(...rest[i]);
      // Another own entry not delivered yet: it takes the rest of the queue with it.
      if (this.pause) {
        (this.pause as Pause).queue.push(...rest.slice(i + 1));
        return;
      }
    }
  }

  private hold(entry: Held): void {
    let at = this.held.length;
    while (at > 0 && compareOffsets(this.held[at - 1].offset, entry.offset) > 0) at -= 1;
    this.held.splice(at, 0, entry);
    if (this.checker) return;
    let tick = performance.now();
    this.checker = setInterval(() => {
      const now = performance.now();
      // This process did not run for as long as the reader may stay silent: the reader's
      // clock starts over, as deadlines do. A loop only lagging keeps counting.
      if (now - tick > CHECK_EVERY_MS + STUCK_MS) this.progress.at = now;
      tick = now;
      // Timers fall due before the I/O of their loop turn, where the reader's answer may be.
      setImmediate(() => this.checkHeld());
    }, CHECK_EVERY_MS).unref();
  }

  private checkHeld(): void {
    const now = performance.now();
    const stuck = now - this.progress.at >= STUCK_MS;
    // Passed in another namespace's entries; not while a pause holds this one's queue back.
    const passed = this.progress.offset;
    const behindReader = (e: Held): boolean =>
      passed !== undefined && !this.pause && compareOffsets(e.offset, passed) <= 0;
    this.release(
      (e) => behindReader(e) || now - e.at >= MAX_HOLD_MS || (stuck && now - e.at >= STUCK_MS),
    );
  }

  private release(upTo: (entry: Held) => boolean): void {
    while (this.held.length > 0 && upTo(this.held[0])) this.held.shift()!.deliver();
    if (this.held.length === 0 && this.checker) {
      clearInterval(this.checker);
      this.checker = undefined;
    }
  }
}

/** Orders Redis stream ids (`<ms>-<seq>`). */
export function compareOffsets(a: string, b: string): number {
  const [aMs, aSeq] = a.split('-').map(Number);
  const [bMs, bSeq] = b.split('-').map(Number);
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq;
}

/** Without an `onError`, a thrown error goes on to the process's crash policy. */
function rethrowLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
