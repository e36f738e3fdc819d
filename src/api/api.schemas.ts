import { z } from 'zod';
import { MAX_TEXT_LENGTH, ROOM_NAME } from '../chat/dto/chat.schemas.js';

/** Users one `POST /api/notifications` may address. */
export const MAX_RECIPIENTS = 1000;

const userId = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(256, { error: 'must be at most 256 characters' });

export const RoomParamSchema = z
  .string()
  .regex(ROOM_NAME, { error: 'room must be 1-64 characters of A-Z a-z 0-9 _ - . :' });
export const UserParamSchema = userId;
/** A room a message can be posted to: `user:` rooms belong to the server. */
export const PostableRoomSchema = RoomParamSchema.refine((room) => !room.startsWith('user:'), {
  error: 'rooms starting with user: are reserved',
});

export const NotifyBodySchema = z
  .object(
    {
      userId: userId.optional(),
      userIds: z
        .array(userId, { error: 'must be an array of user ids' })
        .min(1, { error: 'must hold at least one user id' })
        .max(MAX_RECIPIENTS, { error: `must hold at most ${MAX_RECIPIENTS} user ids` })
        .optional(),
      type: z
        .string({ error: 'must be a string' })
        .min(1, { error: 'must not be empty' })
        .max(64, { error: 'must be at most 64 characters' }),
      data: z.unknown().optional(),
    },
    { error: 'body must be a JSON object' },
  )
  .refine((body) => (body.userId === undefined) !== (body.userIds === undefined), {
    error: 'give userId or userIds (one of them)',
  });

export const PostMessageBodySchema = z.object(
  {
    text: z
      .string({ error: 'must be a string' })
      .min(1, { error: 'must not be empty' })
      .max(MAX_TEXT_LENGTH, { error: `must be at most ${MAX_TEXT_LENGTH} characters` }),
    from: z
      .object(
        {
          id: userId,
          name: z
            .string({ error: 'must be a string' })
            .min(1, { error: 'must not be empty' })
            .max(64, { error: 'must be at most 64 characters' }),
        },
        { error: 'must be { id, name }' },
      )
      .optional(),
  },
  { error: 'body must be a JSON object' },
);

export const RemoveMemberQuerySchema = z.object({
  reason: z.string().max(200, { error: 'reason must be at most 200 characters' }).optional(),
});
