import type { ExtendedError, Socket } from 'socket.io';
import type { SocketData } from '../gateway/socket-types.js';
import type { RealtimeAdapterDeps } from '../socket-server/realtime-io.adapter.js';

type Authenticator = RealtimeAdapterDeps['authenticator'];

export const ADMIN_NAMESPACE = '/admin';

export interface AdminIdentity {
  /** `ADMIN_UI_USER`. */
  readonly user: string;
  /** How long an admin socket stays connected before it must sign in again. */
  readonly sessionS: number;
}

/**
 * The handshake authenticator, with `/admin` handed to the admin UI's own basic auth: every
 * namespace's middleware starts with the JWT check (the socket server adds it to each one as
 * it is created), and the UI has no token to give. An `/admin` socket that presents
 * credentials of the right shape gets an identity and goes on to the rest of the namespace's
 * middleware: the per-user cap, then the UI's check of the password or session id, which
 * alone lets it in. Every other namespace keeps the JWT check untouched.
 */
export function withAdminAdmission(base: Authenticator, identity: AdminIdentity): Authenticator {
  const middleware: Authenticator['middleware'] = (socket, next) =>
    socket.nsp.name === ADMIN_NAMESPACE
      ? admitAdmin(socket, next, identity)
      : base.middleware(socket, next);
  // The same authenticator underneath (its verifier, its verified requests), this one
  // middleware in front.
  return Object.create(base, { middleware: { value: middleware } }) as Authenticator;
}

function admitAdmin(
  socket: Socket,
  next: (error?: ExtendedError) => void,
  { user, sessionS }: AdminIdentity,
): void {
  if (!presentsCredentials(socket.handshake.auth)) return next(missingCredentials());
  // What the connection's logs, metrics, per-user cap and expiry go by.
  (socket.data as SocketData).user = {
    id: `admin-ui:${user}`,
    name: user,
    expiresAt: Date.now() + sessionS * 1000,
  };
  next();
}

/**
 * A session id, or a user name and a password, all strings. The UI's own check hands the
 * password to bcryptjs, which rejects anything but a string, and nothing catches that
 * rejection there: `{ username }` alone would end the process (the crash policy).
 */
export function presentsCredentials(auth: unknown): boolean {
  if (typeof auth !== 'object' || auth === null) return false;
  const { sessionId, username, password } = auth as Record<string, unknown>;
  if (typeof sessionId === 'string' && sessionId !== '') return true;
  return typeof username === 'string' && typeof password === 'string';
}

/**
 * The page opens with the session id it kept, null on a first visit, and shows a refusal's
 * message under its sign-in form: with nothing presented there is nothing wrong to show.
 */
function missingCredentials(): ExtendedError {
  return Object.assign(new Error(''), {
    data: { code: 'UNAUTHORIZED', reason: 'missing_credentials' },
  });
}
