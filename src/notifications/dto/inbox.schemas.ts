import { z } from 'zod';

/** Notifications an `inbox:list` page or an `inbox:read` carries at most. */
export const MAX_INBOX_PAGE = 100;
/** `inbox:list` without a `limit`. */
export const DEFAULT_INBOX_PAGE = 50;

const id = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(64, { error: 'must be at most 64 characters' });
const object = { error: 'payload must be an object' };

export const InboxListSchema = z.object(
  {
    before: id.optional(),
    limit: z
      .int({ error: 'must be an integer' })
      .min(1, { error: `must be 1 to ${MAX_INBOX_PAGE}` })
      .max(MAX_INBOX_PAGE, { error: `must be 1 to ${MAX_INBOX_PAGE}` })
      .optional(),
  },
  object,
);

export const InboxReadSchema = z.union(
  [
    z.object({
      ids: z
        .array(id, { error: 'must be an array of ids' })
        .min(1, { error: 'must hold at least one id' })
        .max(MAX_INBOX_PAGE, { error: `must hold at most ${MAX_INBOX_PAGE} ids` }),
    }),
    z.object({ all: z.literal(true, { error: 'must be true' }) }),
  ],
  { error: 'payload must be { ids: [...] } or { all: true }' },
);
