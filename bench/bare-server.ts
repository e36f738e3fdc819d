/**
 * The reference: a bare Socket.IO server with the template's `/chat` behaviour and nothing
 * else, written the way a user of the library would write it. Same auth (an HS256 JWT in the
 * handshake's `auth`, verified with jose), same events and acks, same server options, and the
 * same Redis adapter when `REDIS_URL` is set, so the comparison is fair.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import { Server } from 'socket.io';
import { useRedisAdapter } from './bare-adapter.js';

interface User {
  readonly id: string;
  readonly name: string;
}

const port = Number(process.env.PORT ?? 3000);
const secret = new TextEncoder().encode(process.env.JWT_SECRET ?? '');
// Anything that is not Socket.IO's gets a 404 (socket.io passes it on to this listener).
const http = createServer((_req, res) => res.writeHead(404).end());
const io = new Server(http, {
  path: '/socket.io',
  serveClient: false,
  transports: ['websocket', 'polling'],
  pingInterval: 25_000,
  pingTimeout: 20_000,
  maxHttpBufferSize: 65_536,
});

if (process.env.REDIS_URL)
  await useRedisAdapter(io, process.env.REDIS_URL, process.env.REDIS_ADAPTER);

const chat = io.of('/chat');
chat.use((socket, next) => {
  const token = (socket.handshake.auth as { token?: unknown }).token;
  if (typeof token !== 'string') return next(new Error('unauthorized'));
  jwtVerify(token, secret, { algorithms: ['HS256'] }).then(
    ({ payload }) => {
      const sub = String(payload.sub);
      (socket.data as { user: User }).user = {
        id: sub,
        name: typeof payload.name === 'string' ? payload.name : sub,
      };
      next();
    },
    () => next(new Error('unauthorized')),
  );
});

chat.on('connection', (socket) => {
  socket.on('room:join', ({ room }: { room: string }, ack: (a: object) => void) => {
    void socket.join(room);
    ack({ ok: true, room });
  });
  socket.on(
    'message:send',
    ({ room, text }: { room: string; text: string }, ack: (a: object) => void) => {
      if (!socket.rooms.has(room)) return ack({ ok: false, error: { code: 'NOT_IN_ROOM' } });
      const ts = Date.now();
      const id = randomUUID();
      const from = (socket.data as { user: User }).user;
      socket.to(room).emit('message:new', { id, room, from, text, ts });
      ack({ ok: true, id, ts });
    },
  );
});

http.listen(port, '127.0.0.1', () => {
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${port}` })}\n`,
  );
});
process.on('SIGTERM', () => process.exit(0));
// Without this, the bare server dies under load: node-redis rejects a command that waited
// too long, and nothing awaits what the Redis adapter sends. The template guards
// every such call; the reference gets the minimum that keeps it measurable.
process.on('unhandledRejection', (error) => {
  process.stderr.write(`unhandled rejection: ${String(error)}\n`);
});
