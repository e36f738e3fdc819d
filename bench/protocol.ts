/** What the bench and its load-generator processes say to each other over IPC. */
export type WorkerCommand =
  | {
      cmd: 'connect';
      urls: string[];
      secret: string;
      firstIndex: number;
      count: number;
      roomSize: number;
      concurrency: number;
    }
  | { cmd: 'join' }
  | { cmd: 'reset' }
  | { cmd: 'chat'; ratePerClient: number }
  | { cmd: 'publish'; durationMs: number; window: number }
  | { cmd: 'stop' }
  | { cmd: 'deliveries' }
  | { cmd: 'report' }
  | { cmd: 'close' };

export type WorkerReply =
  | { type: 'connected'; connected: number; failed: number; ms: number }
  | { type: 'joined'; joined: number }
  | { type: 'reset'; cpuUs: number }
  | { type: 'deliveries'; deliveries: number }
  | {
      type: 'report';
      sent: number;
      acked: number;
      /** Acks received before the load stopped. */
      ackedInWindow: number;
      errors: number;
      /** Sends with no answer 15 s after the load stopped. */
      unanswered: number;
      deliveries: number;
      ackSamples: number[];
      deliverySamples: number[];
      cpuUs: number;
    };

/** What the probe preloaded into a server answers to `window`: figures since the last ask. */
export interface ServerWindow {
  readonly type: 'window';
  readonly loopDelayP50Ms: number;
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** Ticks more than 20 ms late, their wall time and the CPU time the process used in them. */
  readonly stalls: number;
  readonly stallWallMs: number;
  readonly stallCpuMs: number;
  readonly gcPauses: number;
  readonly gcTotalMs: number;
  readonly gcMaxMs: number;
}

/** What the probe answers to `stats`: the window's figures, CPU time and memory. */
export interface ServerStats extends Omit<ServerWindow, 'type'> {
  readonly type: 'stats';
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly cpuUs: number;
  /** Of cpuUs, the time in the kernel (socket writes and reads, mostly). */
  readonly cpuSystemUs: number;
  /** V8's new space: where every allocation lands first. */
  readonly youngGenerationBytes: number;
}
