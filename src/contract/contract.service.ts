import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Injectable, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { type AsyncApiDocument, buildAsyncApiDocument } from './asyncapi-document.js';
import { gatewayContracts } from './gateway-contract.js';

/** The AsyncAPI document of every gateway in the app, found through NestJS's discovery. */
@Injectable()
export class ContractService {
  private document?: AsyncApiDocument;

  constructor(private readonly discovery: DiscoveryService) {}

  /** Built on first use: decorators are fixed once the app has started. */
  asyncApi(): AsyncApiDocument {
    return (this.document ??= buildAsyncApiDocument(packageInfo(), this.gateways()));
  }

  private gateways() {
    const metatypes = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.metatype)
      .filter((metatype): metatype is Type => typeof metatype === 'function');
    return gatewayContracts(metatypes);
  }
}

/** The app's name and version, from the nearest package.json (src/, dist/ or dist-tools/src/). */
function packageInfo(): { title: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const { name, version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  return { title: name, version };
}
