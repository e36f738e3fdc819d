/**
 * Handlers with no guard, interceptor or pipe but their payload schema are called directly,
 * without NestJS's per-message context; any enhancer NestJS would run, wherever it is
 * declared, keeps the handler on NestJS's path, and the enhancer runs.
 */
import { EventEmitter, once } from 'node:events';
import {
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  Catch,
  type ExceptionFilter,
  type ExecutionContext,
  Injectable,
  type INestApplication,
  type ArgumentMetadata,
  Module,
  type NestInterceptor,
  type PipeTransform,
  Scope,
  type Type,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { ConnectedSocket, MessageBody, SubscribeMessage } from '@nestjs/websockets';
import type { Observable } from 'rxjs';
import type { Socket as ClientSocket } from 'socket.io-client';
import { z } from 'zod';
import { Payload, RealtimeGateway } from '../src/gateway/realtime-gateway.decorator.js';
import type { AppSocket } from '../src/gateway/socket-types.js';
import { WsError } from '../src/gateway/ws-error.js';
import { startApp, type StartOptions, type TestApp } from './support/app-harness.js';
import { closeAllClients, connectClient } from './support/clients.js';

const ACK_TIMEOUT_MS = 3000;

/** What the enhancers saw, as `kind:handler`. */
const seen: string[] = [];
/** What exception filters caught, as they catch it. */
const marks = new EventEmitter();

@Injectable()
class RecordingGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    seen.push(`guard:${context.getHandler().name}`);
    return true;
  }
}

@Injectable()
class RecordingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    seen.push(`interceptor:${context.getHandler().name}`);
    return next.handle();
  }
}

@Injectable()
class RecordingPipe implements PipeTransform {
  transform(value: unknown, { type }: ArgumentMetadata): unknown {
    if (type === 'body') seen.push('pipe:body');
    return value;
  }
}

@Catch()
class RecordingFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    marks.emit('filter', `${(exception as Error).message}:${String(host.getArgByIndex(1))}`);
  }
}

const Numbered = z.object({ n: z.number() });
type Numbered = z.infer<typeof Numbered>;

@RealtimeGateway('/probe')
class ProbeGateway {
  @SubscribeMessage('plain')
  plain(@ConnectedSocket() socket: AppSocket, @Payload(Numbered) { n }: Numbered) {
    return { ok: true, n, user: socket.data.user.id };
  }

  @SubscribeMessage('later')
  async later(@Payload(Numbered) { n }: Numbered) {
    await Promise.resolve();
    if (n < 0) throw new Error('secret detail');
    return { ok: true, n };
  }

  @SubscribeMessage('refused')
  refused(@Payload(Numbered) _body: Numbered): never {
    throw new WsError('FORBIDDEN', 'Not yours');
  }

  @UseFilters(RecordingFilter)
  @SubscribeMessage('own-filter')
  ownFilter(): never {
    throw new Error('caught');
  }

  @UseGuards(RecordingGuard)
  @SubscribeMessage('method-guard')
  methodGuard() {
    return { ok: true };
  }

  @UseInterceptors(RecordingInterceptor)
  @SubscribeMessage('method-interceptor')
  methodInterceptor() {
    return { ok: true };
  }

  @UsePipes(RecordingPipe)
  @SubscribeMessage('method-pipe')
  methodPipe(@Payload(Numbered) { n }: Numbered) {
    return { ok: true, n };
  }

  @SubscribeMessage('param-pipe')
  paramPipe(@MessageBody(RecordingPipe) body: unknown) {
    return { ok: true, body };
  }
}

@UseGuards(RecordingGuard)
@RealtimeGateway('/probe-guarded')
class GuardedGateway {
  @SubscribeMessage('ping')
  guarded() {
    return { ok: true };
  }
}

@UseInterceptors(RecordingInterceptor)
@RealtimeGateway('/probe-intercepted')
class InterceptedGateway {
  @SubscribeMessage('ping')
  intercepted() {
    return { ok: true };
  }
}

@UsePipes(RecordingPipe)
@RealtimeGateway('/probe-piped')
class PipedGateway {
  @SubscribeMessage('ping')
  piped(@MessageBody() body: unknown) {
    return { ok: true, body };
  }
}

/** Request-scoped: NestJS makes one per connection, and the gateway that needs it too. */
@Injectable({ scope: Scope.REQUEST })
class PerConnection {
  static made = 0;
  constructor() {
    PerConnection.made += 1;
  }
}

@RealtimeGateway('/probe-scoped')
class ScopedGateway {
  constructor(private readonly perConnection: PerConnection) {}

  @UseGuards(RecordingGuard)
  @SubscribeMessage('ping')
  scoped() {
    return { ok: this.perConnection instanceof PerConnection };
  }
}

@Module({ providers: [ProbeGateway, GuardedGateway, InterceptedGateway, PipedGateway] })
class ProbeModule {}

@Module({ providers: [PerConnection, ScopedGateway] })
class ScopedModule {}

/** A module that adds one global enhancer the way `APP_*` providers do. */
function appProvider(token: string, enhancer: Type): Type {
  @Module({ providers: [{ provide: token, useClass: enhancer }] })
  class GlobalEnhancer {}
  return GlobalEnhancer;
}

async function probe(app: TestApp, namespace = '/probe'): Promise<ClientSocket> {
  return connectClient(app.url, namespace, { auth: { token: await app.token('alice') } });
}

function ask(socket: ClientSocket, event: string, payload: unknown = { n: 1 }): Promise<unknown> {
  return socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
}

describe('handlers with no enhancer are called directly', () => {
  let app: TestApp;
  let socket: ClientSocket;
  beforeAll(async () => {
    app = await startApp({ imports: [ProbeModule] });
    socket = await probe(app);
  });
  afterAll(async () => {
    closeAllClients();
    await app.close();
  });
  beforeEach(() => {
    seen.length = 0;
  });

  it('the handlers with only the payload schema and the template filter skip NestJS, the rest do not', () => {
    const paths = app.adapter.handlerPaths('/probe');
    expect(paths?.direct.sort()).toEqual(['later', 'own-filter', 'plain', 'refused']);
    expect(paths?.nest.sort()).toEqual([
      'method-guard',
      'method-interceptor',
      'method-pipe',
      'param-pipe',
    ]);
  });

  it('called directly, a handler gets its socket and its validated payload, and acks', async () => {
    expect(await ask(socket, 'plain', { n: 7, extra: true })).toEqual({
      ok: true,
      n: 7,
      user: 'alice',
    });
    expect(await ask(socket, 'later', { n: 2 })).toEqual({ ok: true, n: 2 });
  });

  it('called directly, failures answer as through NestJS: VALIDATION, the WsError, INTERNAL', async () => {
    expect(await ask(socket, 'plain', { n: 'seven' })).toMatchObject({
      ok: false,
      error: { code: 'VALIDATION', message: expect.stringContaining('n:') },
    });
    expect(await ask(socket, 'refused')).toEqual({
      ok: false,
      error: { code: 'FORBIDDEN', message: 'Not yours' },
    });
    const internal = await ask(socket, 'later', { n: -1 });
    expect(internal).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(internal)).not.toContain('secret detail');
  });

  it("called directly, a handler's own exception filter catches, with the payload in its host", async () => {
    const caught = once(marks, 'filter');
    socket.emit('own-filter', 'the payload');
    expect(await caught).toEqual(['caught:the payload']);
  });

  it.each([
    ['method-guard', 'guard:methodGuard'],
    ['method-interceptor', 'interceptor:methodInterceptor'],
    ['method-pipe', 'pipe:body'],
    ['param-pipe', 'pipe:body'],
  ])('%s: the enhancer on the method runs', async (event, mark) => {
    expect(await ask(socket, event)).toMatchObject({ ok: true });
    expect(seen).toContain(mark);
  });

  it.each([
    ['/probe-guarded', 'guard:guarded'],
    ['/probe-intercepted', 'interceptor:intercepted'],
    ['/probe-piped', 'pipe:body'],
  ])('%s: the enhancer on the class runs', async (namespace, mark) => {
    const classSocket = await probe(app, namespace);
    expect(await ask(classSocket, 'ping')).toMatchObject({ ok: true });
    expect(seen).toContain(mark);
    expect(app.adapter.handlerPaths(namespace)).toEqual({ direct: [], nest: ['ping'] });
  });
});

describe('global enhancers keep every handler on NestJS path', () => {
  let app: TestApp | undefined;
  afterEach(async () => {
    closeAllClients();
    await app?.close();
    app = undefined;
    seen.length = 0;
  });

  /** Nobody to drain: these apps close at once. */
  const env = { SHUTDOWN_DRAIN_MS: '0' };
  const useGlobal = (apply: (app: INestApplication) => void): StartOptions => ({
    env,
    imports: [ProbeModule],
    configure: apply,
  });
  it.each<[string, StartOptions, string]>([
    [
      'useGlobalGuards',
      useGlobal((nest) => nest.useGlobalGuards(new RecordingGuard())),
      'guard:plain',
    ],
    [
      'useGlobalInterceptors',
      useGlobal((nest) => nest.useGlobalInterceptors(new RecordingInterceptor())),
      'interceptor:plain',
    ],
    ['useGlobalPipes', useGlobal((nest) => nest.useGlobalPipes(new RecordingPipe())), 'pipe:body'],
    [
      'APP_GUARD',
      { env, imports: [ProbeModule, appProvider(APP_GUARD, RecordingGuard)] },
      'guard:plain',
    ],
    [
      'APP_INTERCEPTOR',
      { env, imports: [ProbeModule, appProvider(APP_INTERCEPTOR, RecordingInterceptor)] },
      'interceptor:plain',
    ],
    [
      'APP_PIPE',
      { env, imports: [ProbeModule, appProvider(APP_PIPE, RecordingPipe)] },
      'pipe:body',
    ],
  ])('%s: the enhancer runs', async (_, options, mark) => {
    app = await startApp(options);
    const socket = await probe(app);
    expect(await ask(socket, 'plain', { n: 3 })).toEqual({ ok: true, n: 3, user: 'alice' });
    expect(seen).toContain(mark);
    expect(app.adapter.handlerPaths('/probe')?.direct).toEqual([]);
  });

  it('a request-scoped gateway gets its provider per connection, and its guard runs', async () => {
    app = await startApp({ env, imports: [ScopedModule] });
    const before = PerConnection.made;
    const [first, second] = [await probe(app, '/probe-scoped'), await probe(app, '/probe-scoped')];
    for (const socket of [first, first, second])
      expect(await ask(socket, 'ping')).toEqual({ ok: true });
    expect(PerConnection.made - before).toBe(2);
    expect(seen).toEqual(['guard:scoped', 'guard:scoped', 'guard:scoped']);
    expect(app.adapter.handlerPaths('/probe-scoped')?.direct).toEqual([]);
  });
});
