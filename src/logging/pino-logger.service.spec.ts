import { Writable } from 'node:stream';
import { createLogger } from './logger.js';
import { PinoLoggerService } from './pino-logger.service.js';

describe('PinoLoggerService', () => {
  function setUp(level: string) {
    const entries: { level: number; msg?: string; context?: string }[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        entries.push(JSON.parse(chunk.toString()) as (typeof entries)[number]);
        done();
      },
    });
    return { service: new PinoLoggerService(createLogger(level, stream)), entries };
  }

  it("keeps NestJS's start-up narration at debug, and everything else at its level", () => {
    const { service, entries } = setUp('info');
    service.log('AppModule dependencies initialized', 'InstanceLoader');
    service.log('Mapped {/health, GET} route', 'RouterExplorer');
    service.log('Nest application successfully started', 'NestApplication');
    service.log('something the app says', 'ChatGateway');
    service.warn('a warning', 'InstanceLoader');
    expect(entries.map(({ level, msg }) => ({ level, msg }))).toEqual([
      { level: 30, msg: 'something the app says' },
      { level: 40, msg: 'a warning' },
    ]);
  });

  it('shows the narration with LOG_LEVEL=debug', () => {
    const { service, entries } = setUp('debug');
    service.log('AppModule dependencies initialized', 'InstanceLoader');
    expect(entries).toEqual([expect.objectContaining({ level: 20, context: 'InstanceLoader' })]);
  });
});
