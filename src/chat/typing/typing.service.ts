import { Inject, Injectable } from '@nestjs/common';
import type { Socket } from 'socket.io';
import { ChatEvent, type UserRef } from '../chat.events.js';
import { TYPING_FEED, type TypingFeed, type TypingSignal } from './typing-feed.js';

/** A typing state not renewed within this long ends by itself. */
export const TYPING_TIMEOUT_MS = 6000;

/**
 * Who is typing where. A socket's `typing:start` tells the room's other members on every
 * instance, volatile (never queued for a slow client); it ends with `typing:stop`, a leave, a
 * disconnect, or `TYPING_TIMEOUT_MS` without renewal. A renewal within the window is not
 * sent again.
 */
@Injectable()
export class TypingService {
  /** Per socket, its rooms with their stop timers. */
  private readonly typing = new WeakMap<Socket, Map<string, NodeJS.Timeout>>();
  private namespace: Socket['nsp'] | undefined;

  constructor(@Inject(TYPING_FEED) private readonly feed: TypingFeed) {
    feed.onSignal((signal) => this.deliver(signal));
  }

  bind(namespace: Socket['nsp']): void {
    this.namespace = namespace;
  }

  start(socket: Socket, room: string, user: UserRef): void {
    let rooms = this.typing.get(socket);
    if (!rooms) {
      rooms = new Map();
      this.typing.set(socket, rooms);
    }
    const timer = rooms.get(room);
    if (timer) timer.refresh();
    else {
      rooms.set(room, setTimeout(() => this.stop(socket, room, user), TYPING_TIMEOUT_MS).unref());
      this.feed.publish({ room, user, typing: true, sender: socket.id });
    }
  }

  stop(socket: Socket, room: string, user: UserRef): void {
    const rooms = this.typing.get(socket);
    const timer = rooms?.get(room);
    if (!rooms || !timer) return;
    clearTimeout(timer);
    rooms.delete(room);
    this.feed.publish({ room, user, typing: false, sender: socket.id });
  }

  /** The socket left every room (it is disconnecting). */
  stopAll(socket: Socket, user: UserRef): void {
    for (const room of [...(this.typing.get(socket)?.keys() ?? [])]) this.stop(socket, room, user);
  }

  private deliver({ room, user, typing, sender }: TypingSignal): void {
    this.namespace?.local
      .to(room)
      .except(sender)
      .volatile.emit(ChatEvent.Typing, { room, user, typing });
  }
}
