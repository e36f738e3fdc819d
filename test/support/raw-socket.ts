import { once } from 'node:events';
import { WebSocket } from 'ws';
import { WaitTimeoutError } from './clients.js';

const DEFAULT_TIMEOUT_MS = 5000;

function openWebSocket(url: string, headers: Record<string, string>): WebSocket {
  return new WebSocket(`${url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`, {
    headers,
  });
}

function opened(ws: WebSocket): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) =>
      reject(new Error(`upgrade refused: ${res.statusCode}`)),
    );
    ws.once('error', reject);
  });
}

/** A raw engine.io WebSocket, to behave in ways the socket.io client never would. */
export function rawSocket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return opened(openWebSocket(url, headers));
}

export type Frame = string | Buffer;

/**
 * Engine.IO v4 / Socket.IO v5 spoken frame by frame, the way Socket.IO's own protocol test
 * suite does: pings are answered, every other frame is handed over in order.
 */
export class RawFrames {
  private readonly frames: Frame[] = [];
  private waiter: ((frame: Frame) => void) | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const frame = isBinary ? data : data.toString();
      if (frame === '2') return void ws.send('3');
      const waiter = this.waiter;
      this.waiter = undefined;
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    });
  }

  /** Opens the WebSocket and reads the Engine.IO handshake. */
  static async open(url: string, headers: Record<string, string> = {}): Promise<RawFrames> {
    // Listening before the upgrade completes: the handshake can come in the same read.
    const raw = new RawFrames(openWebSocket(url, headers));
    await opened(raw.ws);
    const handshake = await raw.next();
    if (typeof handshake !== 'string' || !handshake.startsWith('0'))
      throw new Error(`expected the Engine.IO handshake, got ${String(handshake)}`);
    return raw;
  }

  send(...frames: (string | Uint8Array)[]): void {
    for (const frame of frames) this.ws.send(frame);
  }

  /** The next frame that is not a ping. */
  next(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame> {
    const queued = this.frames.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new WaitTimeoutError('a frame', timeoutMs));
      }, timeoutMs);
      this.waiter = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
    });
  }

  /** The next `count` frames. */
  async take(count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Frame[]> {
    const frames: Frame[] = [];
    while (frames.length < count) frames.push(await this.next(timeoutMs));
    return frames;
  }

  /** Resolves when the server closes the WebSocket; fails after `timeoutMs`. */
  async closed(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await once(this.ws, 'close', { signal: AbortSignal.timeout(timeoutMs) }).catch(() => {
      throw new WaitTimeoutError('the server to close the connection', timeoutMs);
    });
  }

  close(): void {
    this.ws.terminate();
  }
}
