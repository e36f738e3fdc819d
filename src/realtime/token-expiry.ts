import type { Socket } from 'socket.io';

/** setTimeout's longest delay; a later expiry is reached in several steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Disconnects the socket when its access token expires. The client then sees
 * "io server disconnect" and does not reconnect by itself: it needs a fresh token.
 */
export function armTokenExpiry(
  socket: Socket,
  expiresAt: number,
  onExpired: (socket: Socket) => void,
): void {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const remaining = expiresAt - Date.now();
    if (remaining <= 0) {
      onExpired(socket);
      socket.disconnect(true);
      return;
    }
    timer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  // `disconnect` fires once per socket: `on`, without `once`'s per-call wrapper.
  socket.on('disconnect', () => clearTimeout(timer));
}
