import { breakingChanges, compatibilityVerdict, type ContractDocument } from './contract-compat.js';

type Schema = Record<string, unknown>;
interface DocumentOptions {
  readonly version?: string;
  readonly send?: Schema;
  readonly pushed?: Schema;
  readonly codes?: readonly string[];
  readonly withPush?: boolean;
}

/** A small document shaped like the generated one: `/chat`, one event with an ack, one push. */
function documentWith({
  version = '1.2.0',
  send = {
    type: 'object',
    properties: { room: { type: 'string', maxLength: 64 }, text: { type: 'string' } },
    required: ['room', 'text'],
  },
  pushed = {
    type: 'object',
    properties: { id: { type: 'string' }, ts: { type: 'integer' } },
    required: ['id', 'ts'],
  },
  codes = ['VALIDATION', 'NOT_IN_ROOM', 'INTERNAL'],
  withPush = true,
}: DocumentOptions = {}): ContractDocument {
  const ref = (key: string) => ({ $ref: `#/channels/chat/messages/${key}` });
  return {
    info: { version },
    channels: {
      chat: {
        address: '/chat',
        messages: {
          message_send: { name: 'message:send', payload: send },
          'message_send.ack': {
            name: 'message:send ack',
            payload: {
              oneOf: [
                { type: 'object', properties: { ok: { const: true } } },
                {
                  type: 'object',
                  properties: {
                    ok: { const: false },
                    error: {
                      type: 'object',
                      properties: { code: { type: 'string', enum: codes } },
                    },
                  },
                },
              ],
            },
          },
          ...(withPush ? { message_new: { name: 'message:new', payload: pushed } } : {}),
        },
      },
    },
    operations: {
      'chat.message_send': {
        action: 'receive',
        messages: [ref('message_send')],
        reply: { messages: [ref('message_send.ack')] },
      },
      ...(withPush
        ? { 'chat.message_new': { action: 'send', messages: [ref('message_new')] } }
        : {}),
    },
  };
}

const send = (properties: Record<string, unknown>, required = ['room', 'text']) => ({
  type: 'object',
  properties,
  required,
});

describe('breaking changes between two contracts', () => {
  it('finds none between a document and itself', () => {
    expect(breakingChanges(documentWith(), documentWith())).toEqual([]);
  });

  it('reports a removed event', () => {
    expect(breakingChanges(documentWith(), documentWith({ withPush: false }))).toEqual([
      '/chat message:new: removed',
    ]);
  });

  it('reports a removed channel', () => {
    expect(breakingChanges(documentWith(), { ...documentWith(), channels: {} })).toEqual([
      '/chat: channel removed',
    ]);
  });

  it('reports a removed field', () => {
    const current = documentWith({
      send: send({ room: { type: 'string', maxLength: 64 } }, ['room']),
    });
    expect(breakingChanges(documentWith(), current)).toEqual([
      '/chat message:send: payload.text: field removed',
    ]);
  });

  it('reports a narrowed type, a tightened bound and a removed error code', () => {
    const current = documentWith({
      send: send({ room: { type: 'string', maxLength: 32 }, text: { type: 'string' } }),
      pushed: {
        type: 'object',
        properties: { id: { type: 'string' }, ts: { type: 'string' } },
        required: ['id', 'ts'],
      },
      codes: ['VALIDATION', 'INTERNAL'],
    });
    expect(breakingChanges(documentWith(), current)).toEqual([
      '/chat message:send: payload.room: maxLength tightened (64 -> 32)',
      '/chat message:send ack: payload(oneOf 1).error.code: values no longer allowed: "NOT_IN_ROOM"',
      '/chat message:new: payload.ts: type narrowed (no longer integer)',
    ]);
  });

  it('reports a field newly required of clients, and one the server may no longer send', () => {
    const current = documentWith({
      send: send(
        {
          room: { type: 'string', maxLength: 64 },
          text: { type: 'string' },
          tag: { type: 'string' },
        },
        ['room', 'text', 'tag'],
      ),
      pushed: {
        type: 'object',
        properties: { id: { type: 'string' }, ts: { type: 'integer' } },
        required: ['id'],
      },
    });
    expect(breakingChanges(documentWith(), current)).toEqual([
      '/chat message:send: payload.tag: newly required',
      '/chat message:new: payload.ts: no longer always sent',
    ]);
  });

  it('accepts an added optional field, an added event, a widened type and a new error code', () => {
    const current = documentWith({
      send: send({
        room: { type: 'string', maxLength: 128 },
        text: { type: ['string', 'null'] },
        clientMsgId: { type: 'string' },
      }),
      pushed: {
        type: 'object',
        properties: { id: { type: 'string' }, ts: { type: 'number' }, edited: { type: 'boolean' } },
        required: ['id', 'ts', 'edited'],
      },
      codes: ['VALIDATION', 'NOT_IN_ROOM', 'FORBIDDEN', 'INTERNAL'],
    });
    expect(breakingChanges(documentWith(), current)).toEqual([]);
  });
});

describe('the compatibility verdict', () => {
  const removed = documentWith({ withPush: false });

  it('refuses a breaking change within the same major version', () => {
    expect(compatibilityVerdict(documentWith(), removed, '1.9.0')).toEqual({
      breaking: ['/chat message:new: removed'],
      allowed: false,
    });
  });

  it('allows a breaking change once package.json has a greater major version', () => {
    expect(compatibilityVerdict(documentWith(), removed, '2.0.0').allowed).toBe(true);
    expect(compatibilityVerdict(documentWith({ version: '0.1.0' }), removed, '1.0.0').allowed).toBe(
      true,
    );
  });

  it('allows any release when nothing breaks', () => {
    expect(compatibilityVerdict(documentWith(), documentWith(), '1.2.1')).toEqual({
      breaking: [],
      allowed: true,
    });
  });
});
