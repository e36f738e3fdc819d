import { DM_PREFIX } from '../../chat/access/dm-rooms.js';

/** A room name the server takes: 1-64 characters of A-Z a-z 0-9 _ - . : */
const ROOM_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * The direct conversation of two users: both ids sorted, so both sides name the same room.
 * Undefined when the ids cannot make one (an id with a `:`, or a name over 64 characters).
 */
export function dmRoom(a: string, b: string): string | undefined {
  if (a.includes(':') || b.includes(':')) return undefined;
  const [first, second] = [a, b].sort();
  const room = `${DM_PREFIX}${first}:${second}`;
  return ROOM_NAME.test(room) ? room : undefined;
}

/** The two user ids a `dm:<a>:<b>` room names, or undefined for any other room. */
export function dmUsers(room: string): readonly [string, string] | undefined {
  if (!room.startsWith(DM_PREFIX)) return undefined;
  const ids = room.slice(DM_PREFIX.length).split(':');
  return ids.length === 2 && ids[0] && ids[1] ? [ids[0], ids[1]] : undefined;
}

/** The other user of a direct conversation `self` is in. */
export function dmPeer(room: string, self: string): string | undefined {
  const users = dmUsers(room);
  if (users === undefined || !users.includes(self)) return undefined;
  return users[0] === self ? users[1] : users[0];
}
