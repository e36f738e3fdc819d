import { createHmac } from 'node:crypto';
import type { LifecyclePayload } from '../lifecycle-events.js';

/** How long the receiver has to answer one POST. */
const POST_TIMEOUT_MS = 5000;

/** `sha256=` and the hex HMAC-SHA256 of the body with the secret: the `X-Signature` header. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** POSTs one batch, signed; resolves true on a 2xx answer, false on anything else. */
export async function postBatch(
  url: string,
  secret: string,
  events: readonly LifecyclePayload[],
): Promise<boolean> {
  const body = JSON.stringify({ time_ms: Date.now(), events });
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signature(secret, body) },
      body,
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    await response.arrayBuffer().catch(() => undefined);
    return response.ok;
  } catch {
    return false;
  }
}
