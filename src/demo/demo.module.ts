import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module.js';
import { NotificationsModule } from '../notifications/notifications.module.js';
import { DemoController } from './demo.controller.js';
import { DevController } from './dev.controller.js';

@Module({
  imports: [AuthModule, NotificationsModule],
  controllers: [DemoController, DevController],
})
export class DemoModule {}
