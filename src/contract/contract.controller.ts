import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Header, NotFoundException, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { AsyncApiDocument } from './asyncapi-document.js';
import { ContractService } from './contract.service.js';
import { EVENTS_PAGE } from './events-page.js';

/**
 * Where `npm run build` copies the AsyncAPI viewer: it is a devDependency, not in the image's
 * node_modules. From src/ (tests) and dist/ alike.
 */
const VIEWER_DIR = join(
  resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  'dist',
  'vendor',
  'asyncapi',
);
const VIEWER_FILES: Record<string, string> = {
  'asyncapi-ui.js': 'index.js',
  'asyncapi-ui.css': 'default.min.css',
};

/**
 * The event contract, public like /health: any client learns it by connecting anyway, and
 * clients in other languages generate their code from it.
 */
@Controller()
export class ContractController {
  constructor(private readonly contract: ContractService) {}

  @Get('asyncapi.json')
  @Header('Cache-Control', 'no-cache')
  asyncApi(): AsyncApiDocument {
    return this.contract.asyncApi();
  }

  @Get('docs/events')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-cache')
  page(): string {
    return EVENTS_PAGE;
  }

  @Get('docs/events/asyncapi-ui.js')
  viewerScript(@Res() res: Response): void {
    this.sendViewer('asyncapi-ui.js', res);
  }

  @Get('docs/events/asyncapi-ui.css')
  viewerStyle(@Res() res: Response): void {
    this.sendViewer('asyncapi-ui.css', res);
  }

  private sendViewer(name: string, res: Response): void {
    res.sendFile(join(VIEWER_DIR, VIEWER_FILES[name]), { maxAge: '1h' }, (error) => {
      if (error && !res.headersSent) {
        res
          .status(404)
          .json(new NotFoundException(`${name} is built by \`npm run build\``).getResponse());
      }
    });
  }
}
