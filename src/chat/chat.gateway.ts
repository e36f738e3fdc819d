import {
  ConnectedSocket,
  type OnGatewayConnection,
  type OnGatewayInit,
  SubscribeMessage,
} from '@nestjs/websockets';
import { ReadinessService } from '../health/readiness.service.js';
import { Payload, RealtimeGateway } from '../gateway/realtime-gateway.decorator.js';
import {
  CHAT_NAMESPACE,
  ChatEvent,
  type PresenceListAck,
  type RoomAck,
  type RoomPayload,
  type SendAck,
  type SendMessagePayload,
} from './chat.events.js';
import { type ChatNamespace, ChatService, type ChatSocket } from './chat.service.js';
import { RoomSchema, SendMessageSchema } from './dto/chat.schemas.js';

@RealtimeGateway(CHAT_NAMESPACE)
export class ChatGateway implements OnGatewayInit<ChatNamespace>, OnGatewayConnection<ChatSocket> {
  /** One function shared by every socket (EventEmitter calls it with `this` = the socket). */
  private readonly onDisconnecting: (this: ChatSocket) => void;

  constructor(
    private readonly chat: ChatService,
    readiness: ReadinessService,
  ) {
    this.onDisconnecting = function (this: ChatSocket) {
      // A drained socket's user is on their way to another instance: presence stays, and
      // this instance's share is removed once, on the way out, announcing only who is gone.
      if (readiness.current !== 'draining') void chat.leaveAll(this);
    };
  }

  afterInit(namespace: ChatNamespace): void {
    this.chat.bindNamespace(namespace);
  }

  handleConnection(socket: ChatSocket): void {
    socket.on('disconnecting', this.onDisconnecting);
    if (socket.recovered) void this.chat.restore(socket);
  }

  @SubscribeMessage(ChatEvent.RoomJoin)
  join(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(RoomSchema) { room }: RoomPayload,
  ): Promise<RoomAck> {
    return this.chat.join(socket, room);
  }

  @SubscribeMessage(ChatEvent.RoomLeave)
  leave(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(RoomSchema) { room }: RoomPayload,
  ): Promise<RoomAck> {
    return this.chat.leave(socket, room);
  }

  @SubscribeMessage(ChatEvent.MessageSend)
  send(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(SendMessageSchema) payload: SendMessagePayload,
  ): SendAck {
    return this.chat.send(socket, payload);
  }

  @SubscribeMessage(ChatEvent.PresenceList)
  presence(
    @ConnectedSocket() socket: ChatSocket,
    @Payload(RoomSchema) { room }: RoomPayload,
  ): Promise<PresenceListAck> {
    return this.chat.list(socket, room);
  }
}
