import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { RoomAccess } from './room-access.js';

/** `RoomAccess`, with every `@RoomRule` provider of the app found at start. */
@Module({ imports: [DiscoveryModule], providers: [RoomAccess], exports: [RoomAccess] })
export class RoomAccessModule {}
