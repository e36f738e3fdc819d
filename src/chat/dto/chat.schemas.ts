import { z } from 'zod';

/** Room names: 1–64 of `A–Z a–z 0–9 _ - . :`. `user:` rooms are the server's own. */
export const ROOM_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
export const MAX_TEXT_LENGTH = 4000;
/** Messages a join or a history page carries at most. */
export const MAX_PAGE = 100;
export const MAX_STATE_BYTES = 256;
const utf8 = new TextEncoder();

const room = z
  .string({ error: 'must be a string' })
  .regex(ROOM_NAME, { error: 'must be 1-64 characters of A-Z a-z 0-9 _ - . :' });
const offset = z.int({ error: 'must be an integer' }).min(0, { error: 'must be 0 or more' });
const page = z
  .int({ error: 'must be an integer' })
  .min(1, { error: `must be 1 to ${MAX_PAGE}` })
  .max(MAX_PAGE, { error: `must be 1 to ${MAX_PAGE}` });
const object = { error: 'payload must be an object' };

export const RoomSchema = z.object({ room }, object);

export const JoinSchema = z.object(
  {
    room,
    history: page.optional(),
    since: z
      .object(
        { offset, epoch: z.string({ error: 'must be a string' }).min(1).max(64) },
        { error: 'must be { offset, epoch }' },
      )
      .optional(),
  },
  object,
);

export const HistorySchema = z.object(
  { room, before: offset.optional(), limit: page.optional() },
  object,
);

export const SendMessageSchema = z.object(
  {
    room,
    text: z
      .string({ error: 'must be a string' })
      .min(1, { error: 'must not be empty' })
      .max(MAX_TEXT_LENGTH, { error: `must be at most ${MAX_TEXT_LENGTH} characters` }),
    clientMsgId: z
      .string({ error: 'must be a string' })
      .min(1, { error: 'must be 1-64 characters' })
      .max(64, { error: 'must be 1-64 characters' })
      .optional(),
  },
  object,
);

export const PresenceUpdateSchema = z.object(
  {
    room,
    state: z
      .record(z.string(), z.unknown(), { error: 'must be a JSON object' })
      .refine((state) => utf8.encode(JSON.stringify(state)).length <= MAX_STATE_BYTES, {
        error: `must be at most ${MAX_STATE_BYTES} bytes as JSON`,
      }),
  },
  object,
);
