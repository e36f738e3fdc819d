/**
 * `@socket.io/redis-streams-adapter` internals (socket.io-adapter's `ClusterAdapter`) that
 * the cluster's stream-order and recovery fixes wrap. Checked against
 * @socket.io/redis-streams-adapter 0.3.1 and socket.io-adapter 2.5.9 (pinned exactly in
 * package.json); `compat.spec.ts` asserts the shape.
 */
import type { Socket } from 'socket.io';

/** socket.io-adapter's `MessageType.BROADCAST`. */
export const BROADCAST_MESSAGE = 3;

export interface BroadcastOpts {
  readonly rooms: ReadonlySet<string>;
  readonly except?: ReadonlySet<string>;
}

export interface PublishedMessage {
  readonly type: number;
  readonly data?: { readonly requestId?: unknown };
}

/** A stream entry as the adapter's reader passes it on (`uid`, `nsp`, `type`, `data`). */
export interface RawEntry {
  readonly uid?: unknown;
  readonly type?: unknown;
}

/** The methods the fixes wrap, and the instance id. */
export interface StreamsAdapterInternals {
  readonly uid: string;
  onRawMessage(message: RawEntry, offset: string): void;
  publishAndReturnOffset(message: PublishedMessage): Promise<string>;
  restoreSession(pid: string, offset: string): Promise<{ missedPackets: unknown[][] } | null>;
  addOffsetIfNecessary(packet: unknown, opts: unknown, offset: string): void;
  apply(opts: BroadcastOpts, callback: (socket: Socket) => void): void;
}

const METHODS = [
  'onRawMessage',
  'publishAndReturnOffset',
  'restoreSession',
  'addOffsetIfNecessary',
  'apply',
] as const;

/**
 * The adapter instance seen through its internals. Throws at start (not on the first
 * broadcast) when an upgrade renamed one of them.
 */
export function streamsAdapterInternals(adapter: object): StreamsAdapterInternals {
  const view = adapter as Partial<Record<(typeof METHODS)[number], unknown>> & { uid?: unknown };
  const missing = METHODS.filter((name) => typeof view[name] !== 'function');
  if (missing.length > 0 || typeof view.uid !== 'string')
    throw new Error(
      `@socket.io/redis-streams-adapter no longer has ${[...missing, 'uid'].join(', ')}: ` +
        'the installed version is not the one the stream-order fix was written for',
    );
  return adapter as unknown as StreamsAdapterInternals;
}
