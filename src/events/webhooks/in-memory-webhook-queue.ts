import type { LifecyclePayload } from '../lifecycle-events.js';
import { postBatch } from './webhook-sender.js';
import { BATCH_SIZE, BATCH_WINDOW_MS, backoff, pause, type WebhookQueue } from './webhook-queue.js';

/** One instance without Redis: events wait in this process (lost if it dies). */
export class InMemoryWebhookQueue implements WebhookQueue {
  private readonly waiting: LifecyclePayload[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private loop: Promise<void> | undefined;
  private readonly stop = new AbortController();

  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}

  enqueue(event: LifecyclePayload): Promise<void> {
    this.waiting.push(event);
    this.wake?.();
    return Promise.resolve();
  }

  start(): Promise<void> {
    this.loop = this.run();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stop.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      if (this.waiting.length === 0) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      await pause(BATCH_WINDOW_MS, this.stop.signal);
      const batch = this.waiting.slice(0, BATCH_SIZE);
      for (let attempt = 0; !this.closed; attempt++) {
        if (await postBatch(this.url, this.secret, batch)) {
          this.waiting.splice(0, batch.length);
          break;
        }
        await pause(backoff(attempt), this.stop.signal);
      }
    }
  }
}
