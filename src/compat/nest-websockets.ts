/**
 * NestJS internals the socket server relies on. Checked against @nestjs/websockets 12.1.1 and
 * @nestjs/core 12.5.1 (pinned exactly in package.json); `compat.spec.ts` asserts each shape.
 */
import { WebSocketsController } from '@nestjs/websockets/web-sockets-controller.js';

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
