import type { StandardSchemaV1 } from '@standard-schema/spec';
import { MAX_TEXT_LENGTH, RoomSchema, SendMessageSchema } from './chat.schemas.js';
import { PayloadValidationPipe } from '../../gateway/payload-validation.pipe.js';
import { WsError } from '../../gateway/ws-error.js';

function validationErrorOf(pipe: PayloadValidationPipe<unknown>, value: unknown): WsError {
  try {
    pipe.transform(value);
  } catch (error) {
    if (error instanceof WsError) return error;
    throw error;
  }
  throw new Error('expected the payload to be refused');
}

describe('PayloadValidationPipe', () => {
  const room = new PayloadValidationPipe(RoomSchema);
  const send = new PayloadValidationPipe(SendMessageSchema);

  it('passes a valid payload through', () => {
    expect(room.transform({ room: 'lobby' })).toEqual({ room: 'lobby' });
    expect(send.transform({ room: 'team:dev-1.ops_x', text: 'hello' })).toEqual({
      room: 'team:dev-1.ops_x',
      text: 'hello',
    });
  });

  it('drops fields the schema does not know', () => {
    expect(room.transform({ room: 'lobby', admin: true })).toEqual({ room: 'lobby' });
  });

  it.each<[string, PayloadValidationPipe<unknown>, unknown, string]>([
    ['a missing room', room, {}, 'room: must be a string'],
    ['a room that is not a string', room, { room: 42 }, 'room: must be a string'],
    ['an empty room', room, { room: '' }, 'room: must be 1-64 characters'],
    ['a room with a space', room, { room: 'the lobby' }, 'room: must be 1-64 characters'],
    ['a room of 65 characters', room, { room: 'r'.repeat(65) }, 'room: must be 1-64 characters'],
    ['an empty text', send, { room: 'lobby', text: '' }, 'text: must not be empty'],
    [
      'a text that is too long',
      send,
      { room: 'lobby', text: 'x'.repeat(MAX_TEXT_LENGTH + 1) },
      `text: must be at most ${MAX_TEXT_LENGTH} characters`,
    ],
    [
      'a text that is not a string',
      send,
      { room: 'lobby', text: ['hi'] },
      'text: must be a string',
    ],
  ])('refuses %s with VALIDATION naming the field', (_case, pipe, value, message) => {
    const error = validationErrorOf(pipe, value);
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toContain(message);
  });

  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'lobby'],
    ['an array', ['lobby']],
  ])('refuses %s as a payload with VALIDATION', (_case, value) => {
    const error = validationErrorOf(room, value);
    expect(error.code).toBe('VALIDATION');
    expect(error.message).toBe('payload must be an object');
  });

  it('refuses binary with VALIDATION, as a payload or as a field', () => {
    expect(validationErrorOf(room, Buffer.from('lobby')).code).toBe('VALIDATION');
    expect(validationErrorOf(room, { room: Buffer.from('lobby') }).message).toBe(
      'room: must be a string',
    );
  });

  it('reports the first problem only, as one line', () => {
    const error = validationErrorOf(send, { room: 'bad room', text: '' });
    expect(error.message).toMatch(/^(room|text): /);
    expect(error.message).not.toContain('\n');
  });

  it('joins nested paths with dots', () => {
    const nested: StandardSchemaV1<unknown, never> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => ({ issues: [{ message: 'is odd', path: ['a', { key: 0 }, 'b'] }] }),
      },
    };
    expect(validationErrorOf(new PayloadValidationPipe(nested), {}).message).toBe('a.0.b: is odd');
  });

  it('refuses a schema that validates asynchronously', () => {
    const asyncSchema: StandardSchemaV1<unknown, unknown> = {
      '~standard': { version: 1, vendor: 'test', validate: (value) => Promise.resolve({ value }) },
    };
    expect(() => new PayloadValidationPipe(asyncSchema).transform({})).toThrow(TypeError);
  });
});
