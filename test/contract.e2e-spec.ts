/**
 * The AsyncAPI document: served from the code, equal to the committed docs/asyncapi.json,
 * valid AsyncAPI 3, true to the schemas the handlers validate with, compatible with the last
 * released contract, and readable as a page in Chromium.
 */
import { readFileSync } from 'node:fs';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { chromium, type Browser } from 'playwright-core';
import { z } from 'zod';
import { CHAT_NAMESPACE, ChatEvent } from '../src/chat/chat.events.js';
import { JoinSchema, SendMessageSchema } from '../src/chat/dto/chat.schemas.js';
import type { AsyncApiDocument } from '../src/contract/asyncapi-document.js';
import { compatibilityVerdict } from '../src/contract/contract-compat.js';
import {
  NotificationEvent,
  NOTIFICATIONS_NAMESPACE,
} from '../src/notifications/notifications.events.js';
import { ServerEvent } from '../src/gateway/server-events.js';
import { startApp, type TestApp } from './support/app-harness.js';
import { jsonDifferences } from './support/json-diff.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const PAGE_TIMEOUT_MS = 15_000;
const readJson = <T>(file: string): T =>
  JSON.parse(readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')) as T;

let server: TestApp;
let served: AsyncApiDocument;
beforeAll(async () => {
  server = await startApp();
  const response = await fetch(`${server.url}/asyncapi.json`);
  expect(response.status).toBe(200);
  served = (await response.json()) as AsyncApiDocument;
});
afterAll(() => server.close());

const channel = (address: string) => {
  const found = Object.values(served.channels).find((c) => c.address === address);
  if (!found) throw new Error(`no channel ${address} in the document`);
  return found;
};
const messageNames = (address: string) =>
  Object.values(channel(address).messages).map((message) => message.name);
const message = (address: string, name: string) =>
  Object.values(channel(address).messages).find((m) => m.name === name);

it('GET /asyncapi.json is the committed docs/asyncapi.json', () => {
  const differences = jsonDifferences(readJson('docs/asyncapi.json'), served);
  if (differences.length)
    throw new Error(
      'docs/asyncapi.json differs from the contract in the code: run `npm run contract` and ' +
        'commit docs/asyncapi.json (then check docs/contract-compatibility.md).\n  ' +
        differences.slice(0, 20).join('\n  '),
    );
});

it('is a valid AsyncAPI 3.0.0 document: @asyncapi/parser reports no error', async () => {
  const { document, diagnostics } = await new Parser().parse(JSON.stringify(served));
  const errors = diagnostics
    .filter((d) => Number(d.severity) === Number(DiagnosticSeverity.Error))
    .map((d) => `${d.code}: ${d.message}`);
  expect(errors).toEqual([]);
  expect(document?.version()).toBe('3.0.0');
  expect(
    document
      ?.channels()
      .all()
      .map((c) => c.address()),
  ).toEqual([CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE]);
});

it('has every namespace with the events its clients send, their acks and what it sends', () => {
  expect(messageNames(CHAT_NAMESPACE)).toEqual([
    ...[
      ChatEvent.RoomJoin,
      ChatEvent.RoomLeave,
      ChatEvent.RoomHistory,
      ChatEvent.MessageSend,
      ChatEvent.PresenceList,
      ChatEvent.PresenceUpdate,
      ChatEvent.TypingStart,
      ChatEvent.TypingStop,
    ].flatMap((event) => [event, `${event} ack`]),
    ChatEvent.MessageNew,
    ChatEvent.PresenceJoined,
    ChatEvent.PresenceLeft,
    ChatEvent.PresenceUpdated,
    ChatEvent.Typing,
    ChatEvent.RoomRemoved,
    ServerEvent.Draining,
    ServerEvent.Exception,
  ]);
  expect(messageNames(NOTIFICATIONS_NAMESPACE)).toEqual([
    NotificationEvent.InboxList,
    `${NotificationEvent.InboxList} ack`,
    NotificationEvent.InboxRead,
    `${NotificationEvent.InboxRead} ack`,
    NotificationEvent.Notification,
    NotificationEvent.InboxUnread,
    ServerEvent.Draining,
    ServerEvent.Exception,
  ]);
});

it('shows each payload as the very schema its handler validates with', () => {
  for (const [event, schema] of [
    [ChatEvent.RoomJoin, JoinSchema],
    [ChatEvent.MessageSend, SendMessageSchema],
  ] as const) {
    const expected: Record<string, unknown> = {
      ...z.toJSONSchema(schema, { io: 'input', target: 'draft-07' }),
    };
    delete expected['$schema'];
    expect(message(CHAT_NAMESPACE, event)?.payload).toEqual(expected);
  }
});

it('gives each ack its success shape and every error code the handler may answer', () => {
  const ack = message(CHAT_NAMESPACE, `${ChatEvent.MessageSend} ack`)?.payload as {
    oneOf: [
      { properties: Record<string, unknown>; required: string[] },
      { properties: { error: { properties: { code: { enum: string[] } } } } },
    ];
  };
  const [success, failure] = ack.oneOf;
  expect(success.required).toEqual(['ok', 'id', 'ts']);
  expect(Object.keys(success.properties)).toEqual(['ok', 'id', 'ts', 'offset']);
  expect(failure.properties.error.properties.code.enum).toEqual([
    'VALIDATION',
    'FORBIDDEN',
    'NOT_IN_ROOM',
    'RATE_LIMITED',
    'INTERNAL',
  ]);
});

it('leaves what the server sends open to new fields, as the compatibility promise allows', () => {
  const sent = [`${ChatEvent.MessageSend} ack`, ChatEvent.MessageNew, ServerEvent.Exception].map(
    (name) => message(CHAT_NAMESPACE, name)?.payload,
  );
  expect(sent).not.toContain(undefined);
  expect(JSON.stringify(sent)).not.toContain('"additionalProperties":false');
});

it('describes the four token carriers and the HTTP refusals of the handshake', () => {
  const components = served['components'] as { securitySchemes: Record<string, unknown> };
  expect(Object.keys(components.securitySchemes)).toEqual([
    'authPayload',
    'authorizationHeader',
    'queryParameter',
    'subprotocol',
  ]);
  const app = (served['servers'] as Record<string, Record<string, unknown>>)['app'];
  const refusals = app['x-http-refusals'] as { status: number }[];
  expect(refusals.map((r) => r.status).sort()).toEqual([401, 403, 503, 503]);
});

it('keeps the compatibility promise against the last released contract (docs/asyncapi.baseline.json)', () => {
  const { version } = readJson<{ version: string }>('package.json');
  const verdict = compatibilityVerdict(readJson('docs/asyncapi.baseline.json'), served, version);
  if (!verdict.allowed)
    throw new Error(
      `Breaking contract changes within major version ${version} ` +
        '(docs/contract-compatibility.md): keep the old shape, or raise the major version in ' +
        `package.json.\n  ${verdict.breaking.join('\n  ')}`,
    );
});

describe('/docs/events in Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });
  afterAll(() => browser?.close());

  it('renders every channel and event from files the app serves itself', async () => {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    page.setDefaultTimeout(PAGE_TIMEOUT_MS);
    const elsewhere: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url)) elsewhere.push(request.url());
    });
    await page.goto(`${server.url}/docs/events`);
    for (const text of [CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE, 'chat.message_send'])
      await page.getByText(text, { exact: true }).filter({ visible: true }).first().waitFor();
    expect(await page.getByText(ChatEvent.RoomJoin, { exact: true }).count()).toBeGreaterThan(0);
    expect(elsewhere).toEqual([]);
  });
});
