import type { AuthUser } from '../../auth/auth-user.js';

export const PRIVATE_PREFIX = 'private:';

/** A claim pattern cut at its `*`s: `private:a*b` is `['private:a', 'b']`. */
type Glob = readonly string[];

/** Each token's private-room globs, made once per token (its `rooms` array is frozen). */
const globsByClaim = new WeakMap<readonly string[], readonly Glob[]>();

/**
 * Whether the user's `rooms` claim has a pattern for this whole room name. Only patterns
 * that start with `private:` count here; the others are left to the app's own rules.
 */
export function claimAdmits(user: AuthUser, room: string): boolean {
  const { rooms } = user;
  if (rooms === undefined || rooms.length === 0) return false;
  let globs = globsByClaim.get(rooms);
  if (globs === undefined) {
    globs = rooms.filter((p) => p.startsWith(PRIVATE_PREFIX)).map((p) => p.split('*'));
    globsByClaim.set(rooms, globs);
  }
  return globs.some((glob) => globMatches(glob, room));
}

/** `*` matches any run of characters, the empty one included; every other character is itself. */
export function matchesPattern(pattern: string, name: string): boolean {
  return globMatches(pattern.split('*'), name);
}

/**
 * No regular expression: one built from a claim like `*a*a*a*…b` can backtrack for seconds
 * on a 64-character name. Placing each middle part at its first fit after the previous one is
 * exact when `*` is the only wildcard, and linear in the name.
 */
function globMatches(parts: Glob, name: string): boolean {
  const head = parts[0] ?? '';
  if (parts.length === 1) return head === name;
  const tail = parts[parts.length - 1] ?? '';
  const end = name.length - tail.length;
  if (end < head.length || !name.startsWith(head) || !name.endsWith(tail)) return false;
  let at = head.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const found = name.indexOf(part, at);
    if (found === -1 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}
