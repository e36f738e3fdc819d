import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ContractController } from './contract.controller.js';
import { ContractService } from './contract.service.js';

/** `GET /asyncapi.json` and `/docs/events`: the contract of every gateway in the app. */
@Module({
  imports: [DiscoveryModule],
  controllers: [ContractController],
  providers: [ContractService],
  exports: [ContractService],
})
export class ContractModule {}
