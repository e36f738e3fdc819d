import type { Namespace, Socket } from 'socket.io';

type OutgoingListener = (event: string, ...args: unknown[]) => void;

/**
 * Sends the UI's new session id again once its socket is connected. The UI's check sends it
 * from its middleware, before the connection completes; socket.io-client hands such an event
 * out just before `connect`, and the UI listens for it only from `connect` on, so the id is
 * lost and every reload asks for the password again. (With connection state recovery the
 * first one is already delivered after `connect`: nothing is caught, nothing resent.)
 *
 * Must be added before `instrument()` adds the UI's check to the namespace.
 */
export function resendSessionOnConnect(namespace: Namespace): void {
  const watching = new WeakMap<Socket, OutgoingListener>();
  const caught = new WeakMap<Socket, unknown>();
  namespace.use((socket, next) => {
    const listener: OutgoingListener = (event, sessionId) => {
      if (event === 'session') caught.set(socket, sessionId);
    };
    watching.set(socket, listener);
    socket.onAnyOutgoing(listener);
    next();
  });
  namespace.on('connection', (socket: Socket) => {
    const listener = watching.get(socket);
    if (listener) socket.offAnyOutgoing(listener);
    if (caught.has(socket)) socket.emit('session', caught.get(socket));
  });
}
