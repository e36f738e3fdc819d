export const DM_PREFIX = 'dm:';

/**
 * Whether `userId` is one of the two users a `dm:<a>:<b>` room names. The two ids are split
 * at the only `:` after the prefix, so an id holding a `:` has no dm room; any other shape
 * (one id, three, an empty one) names nobody. Ids are compared exactly; `dm:a:a` is a's alone.
 */
export function isDmMember(room: string, userId: string): boolean {
  if (!room.startsWith(DM_PREFIX)) return false;
  const start = DM_PREFIX.length;
  const colon = room.indexOf(':', start);
  if (colon <= start || colon === room.length - 1 || room.includes(':', colon + 1)) return false;
  const first = colon - start;
  const second = room.length - colon - 1;
  return (
    (userId.length === first && room.startsWith(userId, start)) ||
    (userId.length === second && room.endsWith(userId))
  );
}
