// Groups writes that arrive in the same event-loop turn into one store transaction: one commit
// (and one fsync) for many messages. Every caller still waits for the commit of its own request.

export interface Batcher<Request, Result> {
  submit(request: Request): Promise<Result>;
  /** Resolves once everything submitted so far has been written (or failed). */
  drain(): Promise<void>;
}

export function createBatcher<Request, Result>(
  write: (requests: Request[]) => Promise<Result[]>,
  options: { maxBatch: number },
): Batcher<Request, Result> {
  let queue: { request: Request; resolve: (r: Result) => void; reject: (e: unknown) => void }[] =
    [];
  let scheduled = false;
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

  function schedule(): void {
    if (scheduled || inFlight) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      inFlight = flush();
    });
  }

  return {
    submit(request) {
      return new Promise<Result>((resolve, reject) => {
        queue.push({ request, resolve, reject });
        schedule();
      });
    },
    drain() {
      if (queue.length === 0 && !inFlight && !scheduled) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
