import { Module } from '@nestjs/common';
import { HealthModule } from '../health/health.module.js';
import { SocketServerModule } from '../socket-server/socket-server.module.js';
import { ShutdownService } from './shutdown.service.js';

@Module({
  imports: [HealthModule, SocketServerModule],
  providers: [ShutdownService],
})
export class LifecycleModule {}
