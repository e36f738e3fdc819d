import { DiscoveryService } from '@nestjs/core';
import type { AuthUser } from '../../auth/auth-user.js';

/**
 * The app's own rule for the rooms whose names start with a prefix, registered with
 * `@RoomRule(prefix)`. `true` lets the user in; `false`, anything else, a throw, a rejection
 * or no answer within 2 s keeps them out.
 */
export interface RoomAccessRule {
  allows(user: AuthUser, room: string): boolean | Promise<boolean>;
}

/** The prefix a rule was registered for; what `RoomAccess` discovers the rules by. */
export const RoomRulePrefix = DiscoveryService.createDecorator<string>();

/**
 * Makes a provider the rule for every room whose name starts with `prefix` (the longest
 * registered prefix wins). List the class in any module's providers; `RoomAccess` finds it at
 * start. For `private:` rooms the rule is asked when the token's `rooms` claim does not match;
 * `dm:` rooms take no app rule.
 *
 * @example
 * ```ts
 * @RoomRule('team:')
 * @Injectable()
 * export class TeamRooms implements RoomAccessRule {
 *   constructor(private readonly teams: TeamsService) {}
 *   allows(user: AuthUser, room: string): Promise<boolean> {
 *     return this.teams.isMember(user.id, room.slice('team:'.length));
 *   }
 * }
 * ```
 */
export function RoomRule(prefix: string): ClassDecorator {
  return RoomRulePrefix(prefix);
}
