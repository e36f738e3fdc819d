import { z } from 'zod';

/** Room names: 1–64 of `A–Z a–z 0–9 _ - . :`. `user:` rooms are the server's own. */
export const ROOM_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
export const MAX_TEXT_LENGTH = 4000;

const room = z
  .string({ error: 'must be a string' })
  .regex(ROOM_NAME, { error: 'must be 1-64 characters of A-Z a-z 0-9 _ - . :' });

export const RoomSchema = z.object({ room }, { error: 'payload must be an object' });

export const SendMessageSchema = z.object(
  {
    room,
    text: z
      .string({ error: 'must be a string' })
      .min(1, { error: 'must not be empty' })
      .max(MAX_TEXT_LENGTH, { error: `must be at most ${MAX_TEXT_LENGTH} characters` }),
  },
  { error: 'payload must be an object' },
);
