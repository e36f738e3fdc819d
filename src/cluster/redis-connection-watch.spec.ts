import { pino } from 'pino';
import { BEHIND_BYTES, RedisConnectionWatch } from './redis-connection-watch.js';

interface LogLine {
  level: number;
  msg: string;
  client?: string;
  outputBufferBytes?: number;
}

function watchWith(list: () => Promise<string>) {
  const logs: LogLine[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => logs.push(JSON.parse(line) as LogLine) },
  );
  return { watch: new RedisConnectionWatch(logger, 'rt-me', list), logs };
}

/** `CLIENT LIST` lines as Redis 7 writes them, trimmed to the fields that matter here. */
const line = (id: number, name: string, omem: number): string =>
  `id=${id} addr=127.0.0.1:5${id} name=${name} age=9 sub=1 psub=0 qbuf=0 omem=${omem} tot-mem=${omem + 22_000} cmd=subscribe user=default`;

it('reports each of its own subscribers’ output buffer, and warns for one past 4 MB', async () => {
  const behind = BEHIND_BYTES + 1;
  const { watch, logs } = watchWith(() =>
    Promise.resolve(
      [
        line(5, 'rt-me:history-feed', 0),
        line(6, 'rt-me:pubsub-subscriber', behind),
        // Another instance's subscriber, far behind: not this instance's to report.
        line(7, 'rt-other:pubsub-subscriber', 50 * BEHIND_BYTES),
        line(8, '', 0),
      ].join('\n'),
    ),
  );
  await watch.check();
  expect(Object.fromEntries(watch.behindBytes)).toEqual({
    'history-feed': 0,
    'pubsub-subscriber': behind,
  });
  expect(logs).toEqual([
    expect.objectContaining({ level: 40, client: 'pubsub-subscriber', outputBufferBytes: behind }),
  ]);
});

it('stops checking, with one line, when Redis does not allow CLIENT LIST', async () => {
  let asked = 0;
  const { watch, logs } = watchWith(() => {
    asked += 1;
    return Promise.reject(
      new Error("NOPERM User default has no permissions to run the 'client|list' command"),
    );
  });
  watch.start();
  await watch.check();
  await watch.check();
  expect(asked).toBe(1);
  expect(logs).toEqual([
    expect.objectContaining({ level: 30, msg: expect.stringContaining('not watched') as unknown }),
  ]);
  watch.stop();
});

it('counts each loss per client and says whether messages were lost', () => {
  const { watch, logs } = watchWith(() => Promise.resolve(''));
  watch.lost('typing-feed', true);
  watch.lost('typing-feed', true);
  watch.lost('command', false);
  expect(Object.fromEntries(watch.losses)).toEqual({ 'typing-feed': 2, command: 1 });
  expect(logs.map((l) => [l.level, l.client])).toEqual([
    [40, 'typing-feed'],
    [40, 'typing-feed'],
    [40, 'command'],
  ]);
  expect(logs[0].msg).toContain('do not reach this instance');
});
