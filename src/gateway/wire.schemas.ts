import { z } from 'zod';
import type { Describes, EmittedEvents, Expect } from './contract-metadata.js';
import { type DrainingNotice, ServerEvent } from './server-events.js';
import { ERROR_CODES, type Failure } from './ws-error.js';

/** What every namespace may send, for the AsyncAPI document (`GET /asyncapi.json`). */
export const FailureSchema = z.object({
  ok: z.literal(false),
  error: z.object({ code: z.enum(ERROR_CODES), message: z.string() }),
});

export const DrainingNoticeSchema = z.object({ reconnectInMs: z.int().min(0) });

export const SERVER_EVENT_SCHEMAS = {
  [ServerEvent.Draining]: DrainingNoticeSchema,
  [ServerEvent.Exception]: FailureSchema,
} as const satisfies EmittedEvents;

/** Fails to compile when a schema and its TypeScript type part. */
export type WireSchemasAgree = [
  Expect<Describes<typeof FailureSchema, Failure>>,
  Expect<Describes<typeof DrainingNoticeSchema, DrainingNotice>>,
];
