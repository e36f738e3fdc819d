import { Writable } from 'node:stream';
import { createAppLogger } from './logger.js';

/** Collects what a logger writes, line by line. */
function capture(): { stream: Writable; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

describe('createAppLogger', () => {
  it('json: one JSON object per line', async () => {
    const out = capture();
    const logger = await createAppLogger({
      level: 'info',
      format: 'json',
      destination: out.stream,
    });
    logger.info({ url: 'http://127.0.0.1:3000' }, 'listening');
    expect(out.lines().map((line) => JSON.parse(line) as unknown)).toEqual([
      expect.objectContaining({ level: 30, msg: 'listening', url: 'http://127.0.0.1:3000' }),
    ]);
  });

  it('pretty: one short human line, with the fields and without the pid', async () => {
    const out = capture();
    const logger = await createAppLogger({
      level: 'info',
      format: 'pretty',
      destination: out.stream,
    });
    logger.info({ url: 'http://127.0.0.1:3000' }, 'listening');
    const [line, ...rest] = out.lines();
    expect(rest).toEqual([]);
    expect(line).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*: listening \{"url":"http:\/\/127\.0\.0\.1:3000"\}$/,
    );
    expect(line).not.toContain('pid');
  });

  it('pretty without pino-pretty installed: JSON, and one warning that says why', async () => {
    const out = capture();
    const missing = Object.assign(new Error("Cannot find package 'pino-pretty'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const logger = await createAppLogger({
      level: 'info',
      format: 'pretty',
      destination: out.stream,
      loadPretty: () => Promise.reject(missing),
    });
    logger.info('listening');
    const entries = out.lines().map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(entries).toEqual([
      expect.objectContaining({ level: 40, msg: expect.stringMatching(/pino-pretty.*JSON/) }),
      expect.objectContaining({ level: 30, msg: 'listening' }),
    ]);
  });

  it('redacts tokens in either format', async () => {
    for (const format of ['json', 'pretty'] as const) {
      const out = capture();
      const logger = await createAppLogger({ level: 'info', format, destination: out.stream });
      logger.info({ token: 'eyJhbGciOi.secret.part' }, 'connected');
      expect(out.lines().join('\n')).not.toContain('secret.part');
    }
  });
});
