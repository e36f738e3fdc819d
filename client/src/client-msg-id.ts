interface Crypto {
  randomUUID?: () => string;
}

/**
 * A new id for `message:send`'s `clientMsgId`: a UUID where the platform has one (browsers in
 * a secure context, Node), else time and randomness (React Native without a polyfill); it
 * only has to differ between one user's messages to one room within 10 minutes.
 */
export function newClientMsgId(): string {
  const crypto = (globalThis as { crypto?: Crypto }).crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const random = () => Math.floor(Math.random() * 2 ** 32).toString(36);
  return `${Date.now().toString(36)}-${random()}${random()}`;
}
