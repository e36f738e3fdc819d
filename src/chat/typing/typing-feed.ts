import type { RedisConnections } from '../../cluster/redis-connections.js';
import type { TypingChange } from '../chat.events.js';

/** A typing change as every instance hears of it; `sender` is the socket that typed. */
export interface TypingSignal extends TypingChange {
  readonly sender: string;
}

/**
 * Carries typing changes to every instance. Not through the Socket.IO adapter: with the
 * streams adapter every broadcast, volatile or not, is stored and replayed to a recovering
 * client, which would then be told of typing long over.
 */
export interface TypingFeed {
  publish(signal: TypingSignal): void;
  onSignal(listener: (signal: TypingSignal) => void): void;
}

export const TYPING_FEED = Symbol('TYPING_FEED');

/** One instance: the change goes straight back to it. */
export class LocalTypingFeed implements TypingFeed {
  private readonly listeners: ((signal: TypingSignal) => void)[] = [];

  publish(signal: TypingSignal): void {
    for (const listener of this.listeners) listener(signal);
  }

  onSignal(listener: (signal: TypingSignal) => void): void {
    this.listeners.push(listener);
  }
}

const CHANNEL = 'chat:typing';

/** Every instance, through Redis pub/sub: fire and forget, like typing itself. */
export class RedisTypingFeed implements TypingFeed {
  private readonly listeners: ((signal: TypingSignal) => void)[] = [];

  constructor(private readonly redis: RedisConnections) {}

  async start(): Promise<void> {
    const subscriber = (await this.redis.duplicate('typing-feed', {
      subscriber: true,
    })) as unknown as {
      subscribe(channel: string, listener: (message: string) => void): Promise<void>;
    };
    await subscriber.subscribe(CHANNEL, (message) => {
      let signal: TypingSignal;
      try {
        signal = JSON.parse(message) as TypingSignal;
      } catch {
        return;
      }
      for (const listener of this.listeners) listener(signal);
    });
  }

  publish(signal: TypingSignal): void {
    const publisher = this.redis.command as unknown as {
      publish(channel: string, message: string): Promise<unknown>;
    };
    publisher
      .publish(CHANNEL, JSON.stringify(signal))
      .catch((error: unknown) => this.redis.errors.report('typing-publish', error));
  }

  onSignal(listener: (signal: TypingSignal) => void): void {
    this.listeners.push(listener);
  }
}
