import { ROOM_NAME } from '../dto/chat.schemas.js';
import { DM_PREFIX } from './dm-rooms.js';
import { PRIVATE_PREFIX } from './private-rooms.js';
import type { RoomAccessRule } from './room-access-rule.js';

export interface RegisteredRule {
  readonly prefix: string;
  readonly rule: RoomAccessRule;
  /** The rule's class name, for errors and logs. */
  readonly name: string;
}

/**
 * The app's rules by prefix, checked once at start: a prefix is a room name's beginning, one
 * rule each, none inside `dm:`. The built-in `private:` counts as a prefix of its own, so
 * only rules within it (`private:`, `private:ops-`) reach private rooms, never a shorter `p`.
 */
export class RoomRuleTable {
  private readonly privateRules: readonly RegisteredRule[];
  private readonly otherRules: readonly RegisteredRule[];

  constructor(rules: readonly RegisteredRule[]) {
    const byPrefix = new Map<string, RegisteredRule>();
    for (const entry of rules) {
      check(entry);
      const taken = byPrefix.get(entry.prefix);
      if (taken) {
        throw new Error(
          `@RoomRule('${entry.prefix}') is on both ${taken.name} and ${entry.name}: one rule per prefix`,
        );
      }
      byPrefix.set(entry.prefix, entry);
    }
    const longestFirst = [...byPrefix.values()].sort((a, b) => b.prefix.length - a.prefix.length);
    this.privateRules = longestFirst.filter(({ prefix }) => prefix.startsWith(PRIVATE_PREFIX));
    this.otherRules = longestFirst.filter(({ prefix }) => !prefix.startsWith(PRIVATE_PREFIX));
  }

  get size(): number {
    return this.privateRules.length + this.otherRules.length;
  }

  /** The rule with the longest prefix of `room` (a room outside `dm:`), if any. */
  ruleFor(room: string): RegisteredRule | undefined {
    const candidates = room.startsWith(PRIVATE_PREFIX) ? this.privateRules : this.otherRules;
    for (const entry of candidates) if (room.startsWith(entry.prefix)) return entry;
    return undefined;
  }
}

function check({ prefix, rule, name }: RegisteredRule): void {
  const where = `@RoomRule('${String(prefix)}') on ${name}`;
  if (typeof prefix !== 'string' || !ROOM_NAME.test(prefix)) {
    throw new Error(`${where}: a prefix is 1-64 characters of A-Z a-z 0-9 _ - . :`);
  }
  if (prefix.startsWith(DM_PREFIX)) {
    throw new Error(`${where}: a dm: room belongs to the two users it names; no rule applies`);
  }
  if (typeof rule.allows !== 'function') {
    throw new Error(`${where}: the class needs an allows(user, room) method`);
  }
}
