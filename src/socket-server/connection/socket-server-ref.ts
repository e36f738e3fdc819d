import { Injectable } from '@nestjs/common';
import type { Server } from 'socket.io';

/** Holds the Socket.IO server for the shutdown sequence; the adapter sets it when it builds it. */
@Injectable()
export class SocketServerRef {
  server: Server | undefined;
}
