import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { ChatService } from '../chat/chat.service.js';
import type { SendResult, UserRef } from '../chat/chat.events.js';
import { NotificationsService } from '../notifications/notifications.service.js';
import { ApiKeyGuard } from './api-key.guard.js';
import {
  NotifyBodySchema,
  PostableRoomSchema,
  PostMessageBodySchema,
  RemoveMemberQuerySchema,
  RoomParamSchema,
  UserParamSchema,
} from './api.schemas.js';
import { ClusterOps, type InstanceStats } from './cluster-ops.js';
import { HttpValidationPipe } from './http-validation.pipe.js';

/** Who a message posted without `from` is from. */
export const SYSTEM_SENDER: UserRef = { id: 'system', name: 'System' };

const body = <T>(schema: StandardSchemaV1<unknown, T>) => Body(new HttpValidationPipe(schema));
const param = <T>(name: string, schema: StandardSchemaV1<unknown, T>) =>
  Param(name, new HttpValidationPipe(schema));

/** The service API: what the rest of the backend asks of the realtime cluster. */
@Controller('api')
@UseGuards(ApiKeyGuard)
export class ApiController {
  constructor(
    private readonly notifications: NotificationsService,
    private readonly chat: ChatService,
    private readonly cluster: ClusterOps,
  ) {}

  @Post('notifications')
  @HttpCode(202)
  async notify(
    @body(NotifyBodySchema)
    { userId, userIds, type, data }: ReturnType<typeof NotifyBodySchema.parse>,
  ): Promise<{ ids: string[] }> {
    const recipients = userIds ?? [userId!];
    const sent = await Promise.all(
      recipients.map((id) => this.notifications.notifyUser(id, type, data ?? null)),
    );
    return { ids: sent.map((notification) => notification.id) };
  }

  @Post('rooms/:room/messages')
  @HttpCode(201)
  postMessage(
    @param('room', PostableRoomSchema) room: string,
    @body(PostMessageBodySchema) { text, from }: ReturnType<typeof PostMessageBodySchema.parse>,
  ): Promise<SendResult> {
    return this.chat.post(room, from ?? SYSTEM_SENDER, text);
  }

  @Get('rooms/:room')
  async room(
    @param('room', RoomParamSchema) room: string,
  ): Promise<{ room: string; users: UserRef[]; connections: number }> {
    const [users, connections] = await Promise.all([
      this.chat.members(room),
      this.cluster.connectionsIn(room),
    ]);
    return { room, users, connections };
  }

  @Delete('rooms/:room/members/:userId')
  async removeMember(
    @param('room', RoomParamSchema) room: string,
    @param('userId', UserParamSchema) userId: string,
    @Query(new HttpValidationPipe(RemoveMemberQuerySchema)) { reason }: { reason?: string },
  ): Promise<{ removed: number }> {
    return { removed: await this.cluster.removeMember(userId, room, reason ?? 'removed') };
  }

  @Post('users/:userId/disconnect')
  @HttpCode(200)
  async disconnect(
    @param('userId', UserParamSchema) userId: string,
  ): Promise<{ disconnected: number }> {
    return { disconnected: await this.cluster.disconnectUser(userId) };
  }

  @Get('stats')
  async stats(): Promise<{ instances: InstanceStats[]; connections: number }> {
    const instances = await this.cluster.stats();
    return { instances, connections: instances.reduce((n, i) => n + i.connections, 0) };
  }
}
