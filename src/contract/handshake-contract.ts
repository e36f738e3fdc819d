import { AUTH_FAILURE_REASONS } from '../auth/auth-error.js';
import { TOKEN_QUERY_PARAMETER, TOKEN_SUBPROTOCOL } from '../auth/token-carriers.js';
import {
  DRAINING_REFUSAL,
  FOREIGN_SESSION_REFUSAL,
  ORIGIN_REFUSAL,
  SERVER_FULL_REFUSAL,
  tokenRefusal,
} from '../socket-server/handshake/handshake-checks.js';
import type { Refusal } from '../socket-server/handshake/engine-gate.js';
import { CONNECT_REFUSALS } from '../socket-server/handshake/namespace-admission.js';
import type { JsonSchema } from './json-schema.js';

/** The four token carriers, any one of which authenticates a connection. */
export const SECURITY_SCHEMES = {
  authPayload: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      "In the Socket.IO handshake's `auth` payload: `io(url, { auth: { token } })`. " +
      'Preferred: never in a URL or a proxy log. A bad or missing token: `connect_error`.',
    'x-socketio-auth-field': 'token',
  },
  authorizationHeader: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: '`Authorization: Bearer <jwt>` on the handshake request. A bad token: HTTP 401.',
  },
  queryParameter: {
    type: 'httpApiKey',
    name: TOKEN_QUERY_PARAMETER,
    in: 'query',
    description: 'A query parameter of the handshake request. A bad token: HTTP 401.',
  },
  subprotocol: {
    type: 'httpApiKey',
    name: 'Sec-WebSocket-Protocol',
    in: 'header',
    description:
      `The two protocols \`${TOKEN_SUBPROTOCOL}, <jwt>\`; the server answers ` +
      `\`${TOKEN_SUBPROTOCOL}\`. A bad token: HTTP 401.`,
  },
} as const;

/** The handshake request as a WebSocket binding: where its token may travel. */
export const HANDSHAKE_BINDING = {
  method: 'GET',
  query: {
    type: 'object',
    properties: { [TOKEN_QUERY_PARAMETER]: { type: 'string', description: 'A JWT' } },
  },
  headers: {
    type: 'object',
    properties: {
      Authorization: { type: 'string', pattern: '^Bearer ' },
      'Sec-WebSocket-Protocol': { type: 'string', description: `${TOKEN_SUBPROTOCOL}, <jwt>` },
    },
  },
  bindingVersion: '0.1.0',
} as const;

/** The body of every HTTP refusal of a handshake. */
export const HTTP_REFUSAL_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { code: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' } },
  required: ['code', 'reason', 'message'],
};

interface RefusalEntry {
  readonly status: number;
  readonly code: string;
  readonly reasons: readonly string[];
  readonly retryAfterS?: number;
  readonly when: string;
}

/** Refusals before engine.io, over HTTP, in the order the engine gate checks. */
export const HTTP_REFUSALS: readonly RefusalEntry[] = [
  entry(DRAINING_REFUSAL, 'the instance is shutting down', FOREIGN_SESSION_REFUSAL),
  entry(ORIGIN_REFUSAL, 'a browser Origin outside CORS_ORIGINS'),
  entry(SERVER_FULL_REFUSAL, 'the instance holds WS_MAX_CONNECTIONS'),
  {
    ...entry(tokenRefusal('malformed_token'), 'a token carried by the request does not verify'),
    reasons: AUTH_FAILURE_REASONS,
  },
];

/** Refusals by a namespace's middleware: a `connect_error` with `{ message, data }`. */
export const CONNECT_ERRORS = [
  {
    message: 'unauthorized',
    code: 'UNAUTHORIZED',
    reasons: AUTH_FAILURE_REASONS,
    when: 'no token, or a bad `auth.token`',
  },
  {
    ...connectEntry(CONNECT_REFUSALS.unserved),
    when: 'no gateway serves the namespace (the main namespace `/`)',
  },
  {
    ...connectEntry(CONNECT_REFUSALS.overUserCap),
    when: 'the user holds WS_MAX_CONNECTIONS_PER_USER on this instance',
  },
] as const;

function entry(refusal: Refusal, when: string, ...alike: Refusal[]): RefusalEntry {
  const retryAfter = refusal.headers?.['Retry-After'];
  return {
    status: refusal.status,
    code: refusal.code,
    reasons: [refusal.reason, ...alike.map((other) => other.reason)],
    ...(retryAfter ? { retryAfterS: Number(retryAfter) } : {}),
    when,
  };
}

function connectEntry({
  message,
  code,
  reason,
}: (typeof CONNECT_REFUSALS)[keyof typeof CONNECT_REFUSALS]) {
  return { message, code, reasons: [reason] };
}

/** The refusals as Markdown, for the server's description. */
export function refusalsMarkdown(): string {
  const http = HTTP_REFUSALS.map(
    (r) =>
      `- HTTP ${r.status} \`${r.code}\` (${r.reasons.map((reason) => `\`${reason}\``).join(', ')})` +
      `${r.retryAfterS ? `, \`Retry-After: ${r.retryAfterS}\`` : ''}: ${r.when}.`,
  );
  const connect = CONNECT_ERRORS.map(
    (e) =>
      `- \`connect_error\` "${e.message}", \`data.code\` \`${e.code}\` ` +
      `(${e.reasons.map((reason) => `\`${reason}\``).join(', ')}): ${e.when}.`,
  );
  return [
    'Refused before engine.io, with a JSON body `{ code, reason, message }`:',
    ...http,
    '',
    "Refused by the namespace's middleware, before any socket exists:",
    ...connect,
  ].join('\n');
}
