import type { Logger } from 'pino';
import type { Server } from 'socket.io';
import { engineConnectionBuffers } from '../../compat/socket-io.js';
import type { MetricsService } from '../../metrics/metrics.service.js';

/** What a connection may have waiting to be sent before it counts as a slow consumer. */
export const MAX_BUFFERED_PACKETS = 1000;
export const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * engine.io buffers without bound what a client does not read (a stalled reader on
 * WebSocket, a polling client that never GETs). Once a second, a connection holding more
 * than `MAX_BUFFERED_PACKETS` packets in engine.io's buffer, or `MAX_BUFFERED_BYTES` in the
 * WebSocket's, is closed, discarding them.
 */
export function watchSlowConsumers(
  server: Server,
  { metrics, logger }: { metrics: MetricsService; logger: Logger },
): void {
  const timer = setInterval(() => {
    for (const conn of engineConnectionBuffers(server)) {
      const bytes = conn.transport.socket?.bufferedAmount ?? 0;
      if (conn.writeBuffer.length <= MAX_BUFFERED_PACKETS && bytes <= MAX_BUFFERED_BYTES) continue;
      metrics.slowConsumers.inc();
      logger.warn(
        {
          engineId: conn.id,
          packets: conn.writeBuffer.length,
          bytes,
          ip: conn.remoteAddress,
        },
        'closing a connection that does not read what it is sent',
      );
      conn.close(true);
    }
  }, 1000);
  timer.unref();
  server.engine.once('close', () => clearInterval(timer));
}
