import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { Drainer } from './connection/drainer.js';
import { SocketServerRef } from './connection/socket-server-ref.js';

/**
 * What the rest of the app reaches of the Socket.IO server: the drain, and the server itself
 * (set by `RealtimeIoAdapter` when NestJS creates it).
 */
@Module({
  imports: [MetricsModule],
  providers: [SocketServerRef, Drainer],
  exports: [SocketServerRef, Drainer],
})
export class SocketServerModule {}
