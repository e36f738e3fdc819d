import { Module } from '@nestjs/common';
import { ChatGateway } from './chat.gateway.js';
import { ChatService } from './chat.service.js';
import { InMemoryPresenceStore } from './presence/in-memory-presence.store.js';
import { PRESENCE_STORE } from './presence/presence.store.js';

@Module({
  providers: [
    ChatGateway,
    ChatService,
    { provide: PRESENCE_STORE, useClass: InMemoryPresenceStore },
  ],
  exports: [ChatService],
})
export class ChatModule {}
