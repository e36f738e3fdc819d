/**
 * NestJS internals the socket server relies on. Checked against @nestjs/websockets 12.1.1 and
 * @nestjs/core 12.5.1 (pinned exactly in package.json); `compat.spec.ts` asserts each shape.
 */
import type { Type } from '@nestjs/common';
import { MetadataScanner } from '@nestjs/core';
import { ExecutionContextHost, ParamsTokenFactory, STATIC_CONTEXT } from '@nestjs/core/internal';
import {
  GATEWAY_METADATA,
  GATEWAY_OPTIONS,
  MESSAGE_MAPPING_METADATA,
  MESSAGE_METADATA,
} from '@nestjs/websockets/constants.js';
import { WsContextCreator } from '@nestjs/websockets/context/ws-context-creator.js';
import { WebSocketsController } from '@nestjs/websockets/web-sockets-controller.js';
import { EMPTY, isObservable } from 'rxjs';
import { catchError } from 'rxjs/operators';

/**
 * A gateway's message handler as NestJS builds it once per gateway: its context (pipes,
 * guards, filters) wrapped around the method, called with the gateway as `this` and
 * `(client, data, ack)`.
 */
export interface GatewaySubscriber {
  readonly message: unknown;
  readonly callback: (...args: unknown[]) => unknown;
  readonly isAckHandledManually?: boolean;
}

/** Where a routed gateway goes: return false to leave it to NestJS's stock path. */
export type GatewayRoute = (
  adapter: unknown,
  client: unknown,
  instance: object,
  subscribers: readonly GatewaySubscriber[],
) => boolean;

/** What of NestJS's `WebSocketsController` the replacement below touches. */
interface ControllerView {
  readonly config: { getIoAdapter(): unknown };
  subscribeMessages(subscribers: GatewaySubscriber[], client: unknown, instance: object): void;
}

const ROUTED = Symbol('routed gateway handlers');
let currentRoute: GatewayRoute | undefined;

/**
 * NestJS binds every handler of a gateway to every client (`callback.bind(instance, client)`
 * in `WebSocketsController.subscribeMessages`) and hands the adapter those bound functions:
 * objects on every connection. This hands the gateway's own handler list to `route` instead
 * (one table per namespace; the socket passed at dispatch). Where `route` returns false, as
 * for any other adapter, NestJS's stock path runs. The last route given is the one used.
 * Returns false when the method is not there (a NestJS release renamed it): the stock path
 * then serves every gateway, and `gatewayHandlersRouted()` says so.
 */
export function routeGatewayHandlers(route: GatewayRoute): boolean {
  const controller = WebSocketsController.prototype as unknown as ControllerView;
  const stock = controller.subscribeMessages as
    (ControllerView['subscribeMessages'] & { [ROUTED]?: true }) | undefined;
  if (typeof stock !== 'function') return false;
  currentRoute = route;
  if (stock[ROUTED]) return true;
  const routed: ControllerView['subscribeMessages'] = function (
    this: ControllerView,
    subscribers,
    client,
    instance,
  ) {
    if (!currentRoute?.(this.config.getIoAdapter(), client, instance, subscribers))
      stock.call(this, subscribers, client, instance);
  };
  controller.subscribeMessages = Object.assign(routed, { [ROUTED]: true as const });
  return true;
}

/** Whether `routeGatewayHandlers` is in place (the compatibility spec asserts it). */
export function gatewayHandlersRouted(): boolean {
  const current = (WebSocketsController.prototype as unknown as Record<PropertyKey, unknown>)
    .subscribeMessages as { [ROUTED]?: true } | undefined;
  return current?.[ROUTED] === true;
}

/**
 * The message of the `WsException` NestJS throws when a guard refuses a message
 * (`FORBIDDEN_MESSAGE` in @nestjs/core's guards), not exported from a public entry point.
 */
export const GUARD_REFUSAL_MESSAGE = 'Forbidden resource';

/** A gateway handler called without NestJS's per-message context: `(client, data, ack)`. */
export type DirectHandler = (client: unknown, data: unknown, ack: unknown) => unknown;

/** Which parameter pipes the direct call may run itself: synchronous, metadata-free ones. */
export type SyncPipeTest = (pipe: unknown) => boolean;

/** What of NestJS's `WsContextCreator` the direct call reads (all built per handler, at start). */
interface ContextCreatorView {
  readonly guardsContextCreator: EnhancerSource;
  readonly interceptorsContextCreator: EnhancerSource;
  readonly pipesContextCreator: EnhancerSource;
  readonly exceptionFiltersContext: {
    create(...context: EnhancerContext): { handle(error: unknown, host: unknown): void };
  };
  getMetadata(
    instance: object,
    methodName: string,
    contextType: 'ws',
  ): {
    argsLength: number;
    getParamsMetadata(moduleKey: string): ParamView[];
  };
  reflectCallbackPattern(callback: unknown): unknown;
  create(
    instance: object,
    callback: unknown,
    moduleKey: string,
    methodName: string,
    contextId?: unknown,
    inquirerId?: unknown,
  ): unknown;
}
type EnhancerContext = [
  instance: object,
  callback: unknown,
  moduleKey: string,
  ...scope: unknown[],
];
interface EnhancerSource {
  create(...context: EnhancerContext): readonly unknown[];
}
interface PlainParam extends ParamView {
  readonly metadata: { readonly type: string; readonly data: unknown };
}
interface ParamView {
  readonly index: number;
  readonly type: unknown;
  readonly data: unknown;
  readonly pipes: readonly { transform(value: unknown, metadata: unknown): unknown }[];
  readonly extractValue: (...args: unknown[]) => unknown;
}

const DIRECT = Symbol('direct handler');
let syncPipe: SyncPipeTest | undefined;

/**
 * NestJS wraps every gateway handler in its per-message context: an async function that runs
 * the guards, the interceptors and the pipes (several promises per event, even when every list
 * is empty). Where NestJS's own context creators, asked at start with the same arguments,
 * give no guard, no interceptor and no pipe but parameter pipes that `isSyncPipe` accepts,
 * this attaches a direct call to the handler NestJS built: the same parameters, the same
 * pipes, errors to the same exception filters. `directHandlerOf` reads it. Request-scoped
 * gateways, and any handler with an enhancer, keep NestJS's path. Returns false when the
 * method moved (every handler then keeps NestJS's path).
 */
export function attachDirectHandlers(isSyncPipe: SyncPipeTest): boolean {
  const creator = WsContextCreator.prototype as unknown as ContextCreatorView & {
    [DIRECT]?: true;
  };
  if (typeof creator.create !== 'function') return false;
  syncPipe = isSyncPipe;
  if (creator[DIRECT]) return true;
  const stock = creator.create;
  creator.create = function (this: ContextCreatorView, ...args: Parameters<typeof stock>) {
    const handler = stock.apply(this, args);
    const [instance, callback, moduleKey, methodName, contextId, inquirerId] = args;
    const isStatic = (contextId === undefined || contextId === STATIC_CONTEXT) && !inquirerId;
    const direct = isStatic && directCall(this, instance, callback, moduleKey, methodName);
    if (direct && typeof handler === 'function') Object.assign(handler, { [DIRECT]: direct });
    return handler;
  };
  Object.assign(creator, { [DIRECT]: true as const });
  return true;
}

/** The direct call `attachDirectHandlers` found for a handler NestJS built, if any. */
export function directHandlerOf(callback: unknown): DirectHandler | undefined {
  return (callback as { [DIRECT]?: DirectHandler } | undefined)?.[DIRECT];
}

function directCall(
  creator: ContextCreatorView,
  instance: object,
  callback: unknown,
  moduleKey: string,
  methodName: string,
): DirectHandler | undefined {
  const context: EnhancerContext = [instance, callback, moduleKey, STATIC_CONTEXT];
  const enhancers = [
    creator.guardsContextCreator,
    creator.interceptorsContextCreator,
    creator.pipesContextCreator,
  ];
  if (enhancers.some((source) => source.create(...context).length > 0)) return undefined;
  const { argsLength, getParamsMetadata } = creator.getMetadata(instance, methodName, 'ws');
  const found = getParamsMetadata(moduleKey);
  // Custom parameter decorators may resolve asynchronously: NestJS's path awaits them.
  const plain = found.every(
    (param) => typeof param.type === 'number' && param.pipes.every((pipe) => syncPipe?.(pipe)),
  );
  if (!plain) return undefined;
  const tokens = new ParamsTokenFactory();
  const params: PlainParam[] = found.map((param) => ({
    ...param,
    metadata: { type: tokens.exchangeEnumForString(param.type as number), data: param.data },
  }));
  const exceptions = creator.exceptionFiltersContext.create(...context);
  const pattern = creator.reflectCallbackPattern(callback) ?? 'unknown';
  const method = callback as (...args: unknown[]) => unknown;
  const fail = (args: unknown[], error: unknown): void => {
    const host = new ExecutionContextHost(args);
    host.setType('ws');
    exceptions.handle(error, host);
  };
  return (client, data, ack) => {
    // What NestJS's proxy hands the context: the handler's arguments, then the pattern.
    const args = [client, data, ack, pattern];
    let result: unknown;
    try {
      result = method.apply(instance, params.length ? paramValues(params, argsLength, args) : args);
    } catch (error) {
      fail(args, error);
      return undefined;
    }
    if (isObservable(result))
      return result.pipe(
        catchError((error: unknown) => {
          fail(args, error);
          return EMPTY;
        }),
      );
    if (isThenable(result))
      return Promise.resolve(result).catch((error: unknown) => {
        fail(args, error);
        return undefined;
      });
    return result;
  };
}

/** The method's arguments, as NestJS's `createPipesFn` builds them, with synchronous pipes. */
function paramValues(params: readonly PlainParam[], length: number, args: unknown[]): unknown[] {
  const values = new Array<unknown>(length).fill(undefined);
  for (const { index, metadata, pipes, extractValue } of params) {
    let value = extractValue(...args);
    for (const pipe of pipes) value = pipe.transform(value, metadata);
    values[index] = value;
  }
  return values;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/** A gateway class as NestJS's own decorators describe it. */
export interface GatewayDeclaration {
  /** `@WebSocketGateway({ namespace })`: a string, a RegExp, a function, or undefined (`/`). */
  readonly namespace: unknown;
  /** Each `@SubscribeMessage(event)` method, in declaration order. */
  readonly handlers: readonly { readonly event: unknown; readonly methodName: string }[];
}

/**
 * What `@WebSocketGateway` and `@SubscribeMessage` recorded on a class, read with the metadata
 * keys NestJS keeps in `@nestjs/websockets/constants` (not exported from its main entry), or
 * undefined when the class is not a gateway.
 */
export function gatewayDeclarationOf(metatype: Type): GatewayDeclaration | undefined {
  if (Reflect.getMetadata(GATEWAY_METADATA, metatype) !== true) return undefined;
  const options = (Reflect.getMetadata(GATEWAY_OPTIONS, metatype) ?? {}) as { namespace?: unknown };
  const prototype = metatype.prototype as Record<string, unknown>;
  const handlers = new MetadataScanner()
    .getAllMethodNames(prototype)
    .filter((name) => isHandler(prototype[name]))
    .map((methodName) => ({
      methodName,
      event: Reflect.getMetadata(MESSAGE_METADATA, prototype[methodName] as object) as unknown,
    }));
  return { namespace: options.namespace, handlers };
}

function isHandler(method: unknown): boolean {
  return (
    typeof method === 'function' && Reflect.getMetadata(MESSAGE_MAPPING_METADATA, method) === true
  );
}
