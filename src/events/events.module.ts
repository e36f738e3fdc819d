import { Module } from '@nestjs/common';
import { LifecyclePublisher } from './lifecycle-publisher.js';

/**
 * Room and user lifecycle events for the app's `@OnEvent` listeners. The emitter itself
 * (`EventEmitterModule.forRoot()`) is registered once, in the app module.
 */
@Module({ providers: [LifecyclePublisher], exports: [LifecyclePublisher] })
export class EventsModule {}
