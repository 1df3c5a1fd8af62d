// Token buckets: a steady rate with a burst allowance, keyed by user, socket or address.

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond,
    );
    this.updatedAt = now;
  }

  /** Takes `cost` tokens (one by default) if there are that many. */
  take(cost = 1): boolean {
    this.refill();
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Milliseconds until `cost` tokens are there: 0 now, Infinity if the burst is smaller. */
  waitMs(cost = 1): number {
    if (cost > this.burst) return Infinity;
    this.refill();
    return this.tokens >= cost ? 0 : ((cost - this.tokens) / this.perSecond) * 1000;
  }

  /** Gives back tokens taken for work that turned out smaller (never past the burst). */
  refund(cost: number): void {
    this.refill();
    this.tokens = Math.min(this.burst, this.tokens + cost);
  }

  /** True once the bucket has refilled completely, so the key can be forgotten. */
  isFull(): boolean {
    return this.tokens + ((this.now() - this.updatedAt) / 1000) * this.perSecond >= this.burst;
  }
}

/** Buckets by key, with idle keys swept so memory stays bounded. */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
  ) {
    this.sweeper = setInterval(() => {
      for (const [key, bucket] of this.buckets) if (bucket.isFull()) this.buckets.delete(key);
    }, 60_000);
    this.sweeper.unref();
  }

  private bucket(key: string): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.perSecond, this.burst);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  take(key: string, cost = 1): boolean {
    return this.bucket(key).take(cost);
  }

  /** Milliseconds until `key` has `cost` tokens (see `TokenBucket.waitMs`). */
  waitMs(key: string, cost = 1): number {
    return this.bucket(key).waitMs(cost);
  }

  refund(key: string, cost: number): void {
    this.buckets.get(key)?.refund(cost);
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
