import { Global, Module } from '@nestjs/common';
import { Drainer, RealtimeServerRef } from './drainer.js';
import { ShutdownService } from './shutdown.service.js';

@Global()
@Module({
  providers: [ShutdownService, Drainer, RealtimeServerRef],
  exports: [Drainer, RealtimeServerRef],
})
export class LifecycleModule {}
