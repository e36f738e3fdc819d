/**
 * Runs one socket's room operations one after another, in the order they arrived: a client
 * that sends `room:join` then `message:send` without waiting for the first ack gets the
 * results it would get waiting. Other sockets are not held up. A socket with nothing pending
 * starts its operation at once, and one that finishes synchronously leaves nothing behind
 * (a chat message with history off: no promise per message).
 */
export class SocketQueue {
  private readonly tails = new WeakMap<object, Promise<unknown>>();

  run<T>(socket: object, operation: () => Promise<T>): Promise<T>;
  run<T>(socket: object, operation: () => T | Promise<T>): T | Promise<T>;
  run<T>(socket: object, operation: () => T | Promise<T>): T | Promise<T> {
    const tail = this.tails.get(socket);
    if (tail) return this.chain(socket, tail.then(operation));
    const result = operation();
    return result instanceof Promise ? this.chain(socket, result) : result;
  }

  private chain<T>(socket: object, result: Promise<T>): Promise<T> {
    const settled = result.then(noop, noop);
    this.tails.set(socket, settled);
    void settled.then(() => {
      if (this.tails.get(socket) === settled) this.tails.delete(socket);
    });
    return result;
  }
}

function noop(): void {}
