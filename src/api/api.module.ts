import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ChatModule } from '../chat/chat.module.js';
import { ClusterModule } from '../cluster/cluster.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { ApiController } from './api.controller.js';
import { ApiErrorFilter } from './api-error.filter.js';
import { ApiKeyGuard } from './api-key.guard.js';
import { ClusterOps } from './cluster-ops.js';

/** The service API under `/api`; the app imports it only when `API_KEY` is set. */
@Module({
  imports: [ChatModule, ClusterModule, NotificationsModule],
  controllers: [ApiController],
  providers: [ApiKeyGuard, ClusterOps, { provide: APP_FILTER, useClass: ApiErrorFilter }],
})
export class ApiModule {}
