import { z } from 'zod';

export const DEV_NOTIFICATION_TYPE = /^[A-Za-z0-9_.:-]{1,64}$/;
export const MAX_DEV_NOTIFICATION_DATA_BYTES = 2048;

/** `POST /dev/notify`: both fields optional, nothing else allowed (a typo is a 400, not ignored). */
export const DevNotifySchema = z.strictObject(
  {
    type: z
      .string({ error: 'must be a string' })
      .regex(DEV_NOTIFICATION_TYPE, { error: 'must be 1-64 characters of A-Z a-z 0-9 _ - . :' })
      .optional(),
    data: z
      .unknown()
      .refine(
        (data) => Buffer.byteLength(JSON.stringify(data) ?? '') <= MAX_DEV_NOTIFICATION_DATA_BYTES,
        {
          error: `must be at most ${MAX_DEV_NOTIFICATION_DATA_BYTES} bytes of JSON`,
        },
      )
      .optional(),
  },
  {
    error: (issue) => (issue.code === 'invalid_type' ? 'body must be a JSON object' : undefined),
  },
);

export type DevNotify = z.infer<typeof DevNotifySchema>;
