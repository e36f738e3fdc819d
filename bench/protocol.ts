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

/** What the probe preloaded into a server answers to `stats`. */
export interface ServerStats {
  readonly type: 'stats';
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly cpuUs: number;
}
