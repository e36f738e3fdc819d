/**
 * Runs one socket's room operations one after another, in the order they arrived: a client
 * that sends `room:join` then `message:send` without waiting for the first ack gets the
 * results it would get waiting. Other sockets are not held up. A socket with nothing pending
 * starts its operation at once.
 */
export class SocketQueue {
  private readonly tails = new WeakMap<object, Promise<unknown>>();

  run<T>(socket: object, operation: () => Promise<T>): Promise<T> {
    const tail = this.tails.get(socket);
    const result = tail ? tail.then(operation) : operation();
    const settled = result.then(noop, noop);
    this.tails.set(socket, settled);
    void settled.then(() => {
      if (this.tails.get(socket) === settled) this.tails.delete(socket);
    });
    return result;
  }
}

function noop(): void {}
