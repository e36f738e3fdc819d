import { jest } from '@jest/globals';
import type { Socket } from 'socket.io';
import { ChatEvent, type UserRef } from '../chat.events.js';
import { LocalTypingFeed, type TypingSignal } from './typing-feed.js';
import { TYPING_TIMEOUT_MS, TypingService } from './typing.service.js';

const alice: UserRef = { id: 'alice', name: 'Alice' };
const socket = { id: 'socket-a' } as Socket;

/** A service on a local feed, with every signal it published. */
function typingService() {
  const feed = new LocalTypingFeed();
  const published: TypingSignal[] = [];
  feed.onSignal((signal) => published.push(signal));
  return { service: new TypingService(feed), published };
}

describe('TypingService', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ends a typing state by itself TYPING_TIMEOUT_MS after its last renewal, which is not sent again', () => {
    const { service, published } = typingService();
    service.start(socket, 'lobby', alice);
    jest.advanceTimersByTime(TYPING_TIMEOUT_MS - 1000);
    service.start(socket, 'lobby', alice);
    expect(published.map((signal) => signal.typing)).toEqual([true]);

    jest.advanceTimersByTime(TYPING_TIMEOUT_MS - 1);
    expect(published.map((signal) => signal.typing)).toEqual([true]);
    jest.advanceTimersByTime(1);
    expect(published).toEqual([
      { room: 'lobby', user: alice, typing: true, sender: 'socket-a' },
      { room: 'lobby', user: alice, typing: false, sender: 'socket-a' },
    ]);
  });

  it('a stop ends it at once, and nothing more comes when the window would have ended', () => {
    const { service, published } = typingService();
    service.start(socket, 'lobby', alice);
    service.stop(socket, 'lobby', alice);
    jest.advanceTimersByTime(TYPING_TIMEOUT_MS * 2);
    expect(published.map((signal) => signal.typing)).toEqual([true, false]);
  });

  it("tells the room's members on this instance, never the typist, without queueing", () => {
    const { service } = typingService();
    const emit = jest.fn();
    const except = jest.fn(() => ({ volatile: { emit } }));
    const to = jest.fn(() => ({ except }));
    service.bind({ local: { to } } as unknown as Socket['nsp']);
    service.start(socket, 'lobby', alice);
    expect(to).toHaveBeenCalledWith('lobby');
    expect(except).toHaveBeenCalledWith('socket-a');
    expect(emit).toHaveBeenCalledWith(ChatEvent.Typing, {
      room: 'lobby',
      user: alice,
      typing: true,
    });
  });
});
