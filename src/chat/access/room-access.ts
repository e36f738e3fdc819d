import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { Logger } from 'pino';
import type { AuthUser } from '../../auth/auth-user.js';
import { APP_LOGGER } from '../../logging/logging.module.js';
import { ROOM_NAME } from '../dto/chat.schemas.js';
import { DM_PREFIX, isDmMember } from './dm-rooms.js';
import { claimAdmits, PRIVATE_PREFIX } from './private-rooms.js';
import { type RoomAccessRule, RoomRulePrefix } from './room-access-rule.js';
import { type RegisteredRule, RoomRuleTable } from './room-rule-table.js';

/** What discovery hands back for a provider (the type is not exported from the package root). */
type ProviderWrapper = ReturnType<DiscoveryService['getProviders']>[number];

/** How long an app rule may take; past it the user is refused and the late answer ignored. */
export const RULE_TIMEOUT_MS = 2000;

/**
 * Who may enter a room: `dm:<a>:<b>` only users `a` and `b`; `private:…` users whose `rooms`
 * claim matches, or whom the app's rule admits; any other name everyone, unless an app rule
 * (`@RoomRule`) has a prefix of it. A name that is not a valid room name admits nobody.
 */
@Injectable()
export class RoomAccess implements OnModuleInit {
  private rules = new RoomRuleTable([]);

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    const wrappers = this.discovery.getProviders({ metadataKey: RoomRulePrefix.KEY });
    this.rules = new RoomRuleTable(wrappers.map((wrapper) => this.registered(wrapper)));
  }

  /** Synchronous unless an app rule answers with a promise. */
  mayEnter(user: AuthUser, room: string): boolean | Promise<boolean> {
    if (!ROOM_NAME.test(room)) return false;
    if (room.startsWith(DM_PREFIX)) return isDmMember(room, user.id);
    const isPrivate = room.startsWith(PRIVATE_PREFIX);
    if (isPrivate && claimAdmits(user, room)) return true;
    const entry = this.rules.ruleFor(room);
    if (entry === undefined) return !isPrivate;
    return this.consult(entry, user, room);
  }

  private registered(wrapper: ProviderWrapper): RegisteredRule {
    const prefix = this.discovery.getMetadataByDecorator(RoomRulePrefix, wrapper);
    const name = String(wrapper.name);
    if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
      throw new Error(`@RoomRule on ${name}: a room rule must be a singleton, not request-scoped`);
    }
    return { prefix: prefix as string, rule: wrapper.instance as RoomAccessRule, name };
  }

  /** Only `true` admits; a sync answer stays sync, so no promise is made for it. */
  private consult(entry: RegisteredRule, user: AuthUser, room: string): boolean | Promise<boolean> {
    let answer: unknown;
    try {
      answer = entry.rule.allows(user, room);
    } catch (error) {
      this.refused(entry, user, room, error);
      return false;
    }
    return isThenable(answer) ? this.bounded(entry, user, room, answer) : answer === true;
  }

  private bounded(
    entry: RegisteredRule,
    user: AuthUser,
    room: string,
    answer: PromiseLike<unknown>,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (allowed: boolean): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        resolve(allowed);
        return true;
      };
      const fail = (error: unknown): void => {
        if (settle(false)) this.refused(entry, user, room, error);
      };
      const timer = setTimeout(
        () => fail(new Error(`no answer within ${RULE_TIMEOUT_MS} ms`)),
        RULE_TIMEOUT_MS,
      );
      // A pending check must not hold the process open at shutdown.
      timer.unref();
      // Promise.resolve turns a thenable whose then() throws into a rejection.
      Promise.resolve(answer).then((allowed) => settle(allowed === true), fail);
    });
  }

  private refused(entry: RegisteredRule, user: AuthUser, room: string, error: unknown): void {
    this.logger.error(
      { err: error, room, userId: user.id, rule: entry.name },
      'room rule failed; the user is refused',
    );
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
