/**
 * A token bucket: `burst` tokens at most, refilled at `perSecond`. Two numbers per socket,
 * no timers; the refill is computed lazily from the time of each take.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  take(now: number): boolean {
    const refilled = this.tokens + ((now - this.updatedAt) * this.perSecond) / 1000;
    this.tokens = refilled > this.burst ? this.burst : refilled;
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
