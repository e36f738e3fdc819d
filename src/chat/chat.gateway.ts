import {
  ConnectedSocket,
  type OnGatewayConnection,
  type OnGatewayInit,
  SubscribeMessage,
} from '@nestjs/websockets';
import { Acks } from '../gateway/contract-metadata.js';
import { Payload, RealtimeGateway } from '../gateway/realtime-gateway.decorator.js';
import { ReadinessService } from '../health/readiness.service.js';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type HistoryAck,
  type HistoryPayload,
  type JoinAck,
  type JoinPayload,
  type OkAck,
  type PresenceListAck,
  type PresenceUpdatePayload,
  type RoomAck,
  type RoomPayload,
  type SendAck,
  type SendMessagePayload,
} from './chat.events.js';
import { type ChatNamespace, ChatService, type ChatSocket } from './chat.service.js';
import {
  HistorySchema,
  JoinSchema,
  PresenceUpdateSchema,
  RoomSchema,
  SendMessageSchema,
} from './dto/chat.schemas.js';
import {
  CHAT_EMITS,
  HistoryResultSchema,
  JoinResultSchema,
  PresenceListResultSchema,
  RoomResultSchema,
  SendResultSchema,
} from './dto/chat-output.schemas.js';

@RealtimeGateway(CHAT_NAMESPACE, { emits: CHAT_EMITS })
export class ChatGateway implements OnGatewayInit<ChatNamespace>, OnGatewayConnection<ChatSocket> {
  /** One function shared by every socket (EventEmitter calls it with `this` = the socket). */
  private readonly onDisconnecting: (this: ChatSocket) => void;

  constructor(
    private readonly chat: ChatService,
    readiness: ReadinessService,
  ) {
    this.onDisconnecting = function (this: ChatSocket) {
      // A drained socket's user is on their way to another instance: presence stays, and
      // this instance's share is handed over on the way out (see RedisPresenceStore).
      if (readiness.current !== 'draining') void chat.leaveAll(this);
    };
  }

  afterInit(namespace: ChatNamespace): void {
    this.chat.bindNamespace(namespace);
  }

  handleConnection(socket: ChatSocket): void {
    socket.on('disconnecting', this.onDisconnecting);
    void this.chat.connected(socket);
    if (socket.recovered) void this.chat.restore(socket);
  }

  @SubscribeMessage(ChatEvent.RoomJoin)
  @Acks({ result: JoinResultSchema, errors: ['FORBIDDEN'] })
  join(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(JoinSchema) payload: JoinPayload,
  ): Promise<JoinAck> {
    return this.chat.join(socket, payload);
  }

  @SubscribeMessage(ChatEvent.RoomLeave)
  @Acks({ result: RoomResultSchema, errors: ['NOT_IN_ROOM'] })
  leave(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(RoomSchema) { room }: RoomPayload,
  ): Promise<RoomAck> {
    return this.chat.leave(socket, room);
  }

  @SubscribeMessage(ChatEvent.RoomHistory)
  @Acks({ result: HistoryResultSchema, errors: ['FORBIDDEN'] })
  history(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(HistorySchema) payload: HistoryPayload,
  ): Promise<HistoryAck> {
    return this.chat.readHistory(socket, payload);
  }

  @SubscribeMessage(ChatEvent.MessageSend)
  @Acks({ result: SendResultSchema, errors: ['NOT_IN_ROOM', 'FORBIDDEN'] })
  send(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(SendMessageSchema) payload: SendMessagePayload,
  ): SendAck | Promise<SendAck> {
    return this.chat.send(socket, payload);
  }

  @SubscribeMessage(ChatEvent.PresenceList)
  @Acks({ result: PresenceListResultSchema, errors: ['NOT_IN_ROOM', 'FORBIDDEN'] })
  presence(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(RoomSchema) { room }: RoomPayload,
  ): Promise<PresenceListAck> {
    return this.chat.list(socket, room);
  }

  @SubscribeMessage(ChatEvent.PresenceUpdate)
  @Acks({ errors: ['NOT_IN_ROOM'] })
  updateState(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(PresenceUpdateSchema) payload: PresenceUpdatePayload,
  ): Promise<OkAck> {
    return this.chat.updateState(socket, payload);
  }

  @SubscribeMessage(ChatEvent.TypingStart)
  @Acks({ errors: ['NOT_IN_ROOM'] })
  typingStart(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(RoomSchema) { room }: RoomPayload,
  ): OkAck | Promise<OkAck> {
    return this.chat.typingStart(socket, room);
  }

  @SubscribeMessage(ChatEvent.TypingStop)
  @Acks({ errors: ['NOT_IN_ROOM'] })
  typingStop(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(RoomSchema) { room }: RoomPayload,
  ): OkAck | Promise<OkAck> {
    return this.chat.typingStop(socket, room);
  }
}
