import { isDeepStrictEqual } from 'node:util';

/** Where two JSON values differ, as paths (`channels.chat.messages.room_join.payload`). */
export function jsonDifferences(
  a: unknown,
  b: unknown,
  path = '$',
  found: string[] = [],
): string[] {
  if (isDeepStrictEqual(a, b)) return found;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null;
  if (!isObject(a) || !isObject(b) || Array.isArray(a) !== Array.isArray(b)) {
    found.push(`${path}: ${JSON.stringify(a)?.slice(0, 80)} -> ${JSON.stringify(b)?.slice(0, 80)}`);
    return found;
  }
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
    jsonDifferences(a[key], b[key], `${path}.${key}`, found);
  return found;
}
