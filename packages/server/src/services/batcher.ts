// Groups writes into one store transaction: one commit (and one fsync) for many messages. Every
// caller still waits for the commit of its own request, so nothing is acknowledged early.
//
// A commit with synchronous=FULL costs ~0.23 ms of fsync on this class of machine (measured in
// docs/benchmarks.md), so a batch waits up to `lingerMs` for company: a little latency bought for
// many fewer fsyncs. A full batch goes at once.

export interface Batcher<Request, Result> {
  submit(request: Request): Promise<Result>;
  /** Resolves once everything submitted so far has been written (or failed). */
  drain(): Promise<void>;
}

export interface BatcherOptions {
  maxBatch: number;
  /** How long the first request of a batch may wait for others; 0 = the next event-loop turn. */
  lingerMs: number;
}

interface Pending<Request, Result> {
  request: Request;
  resolve: (result: Result) => void;
  reject: (error: unknown) => void;
}

export function createBatcher<Request, Result>(
  write: (requests: Request[]) => Promise<Result[]>,
  options: BatcherOptions,
): Batcher<Request, Result> {
  let queue: Pending<Request, Result>[] = [];
  let cancelTimer: (() => void) | undefined;
  let inFlight: Promise<void> | undefined;
  const idleWaiters: (() => void)[] = [];

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.slice(0, options.maxBatch);
      queue = queue.slice(batch.length);
      try {
        const results = await write(batch.map((item) => item.request));
        batch.forEach((item, i) => {
          item.resolve(results[i] as Result);
        });
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    inFlight = undefined;
    for (const wake of idleWaiters.splice(0)) wake();
  }

  function start(): void {
    cancelTimer = undefined;
    inFlight = flush();
  }

  function schedule(): void {
    // A running flush picks up whatever is queued when its current write ends.
    if (inFlight) return;
    if (queue.length >= options.maxBatch) {
      cancelTimer?.();
      start();
      return;
    }
    if (cancelTimer) return;
    if (options.lingerMs > 0) {
      const timeout = setTimeout(start, options.lingerMs);
      cancelTimer = () => {
        clearTimeout(timeout);
      };
    } else {
      const immediate = setImmediate(start);
      cancelTimer = () => {
        clearImmediate(immediate);
      };
    }
  }

  return {
    submit(request) {
      return new Promise<Result>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        schedule();
      });
    },
    drain() {
      if (queue.length === 0 && !inFlight && !cancelTimer) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
