import { randomBytes } from 'node:crypto';

/** A fresh name for a room's history lifetime (a client holding another one starts over). */
export function newEpoch(): string {
  return randomBytes(6).toString('base64url');
}
