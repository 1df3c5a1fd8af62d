import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../src/services/batcher.js';

function recordingBatcher(options: { maxBatch: number; lingerMs: number }) {
  const batches: number[][] = [];
  const batcher = createBatcher<number, string>((requests) => {
    batches.push(requests);
    return Promise.resolve(requests.map((r) => `stored ${r}`));
  }, options);
  return { batcher, batches };
}

describe('write batcher', () => {
  it('groups what arrives within the linger into one write, answering each caller', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatch: 100, lingerMs: 20 });
    const first = batcher.submit(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = batcher.submit(2);
    expect(await Promise.all([first, second])).toEqual(['stored 1', 'stored 2']);
    expect(batches).toEqual([[1, 2]]);
  });

  it('writes a full batch at once, without waiting for the linger', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatch: 3, lingerMs: 60_000 });
    const results = await Promise.all([1, 2, 3].map((n) => batcher.submit(n)));
    expect(results).toHaveLength(3);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('fails every request of a batch whose write fails, and keeps going', async () => {
    let fail = true;
    const batcher = createBatcher<number, number>(
      (requests) => (fail ? Promise.reject(new Error('disk full')) : Promise.resolve(requests)),
      { maxBatch: 10, lingerMs: 0 },
    );
    const failed = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await batcher.submit(3)).toBe(3);
  });

  it('drains: resolves once everything submitted has been written', async () => {
    const { batcher, batches } = recordingBatcher({ maxBatch: 100, lingerMs: 30 });
    void batcher.submit(1);
    void batcher.submit(2);
    await batcher.drain();
    expect(batches).toEqual([[1, 2]]);
    await batcher.drain();
  });
});
