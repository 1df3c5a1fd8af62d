// The scorecard every fault test prints: what clients sent and had acknowledged, what the store
// holds, and what each observer ended up seeing after catching up. Only the first three columns
// may be non-zero; the others each name a way a relay can lose or leak a message.
import { expect } from 'vitest';

export interface FaultTally {
  /** Messages clients tried to send (distinct client ids). */
  sent: number;
  /** Of those, how many the relay acknowledged. */
  acked: number;
  /** Messages in the store afterwards. */
  stored: number;
  /** Acknowledged but not in the store, or stored under another sequence number than the ack said. */
  ackedButLost: number;
  /** The same client id stored twice, or shown twice in one observer's view. */
  duplicates: number;
  /** Places where an observer's final view is not in strictly increasing sequence order. */
  outOfOrder: number;
  /** Deliveries to someone who was not allowed to see them at that moment. */
  unauthorised: number;
}

export interface TallyInput {
  sent: Iterable<string>;
  /** Client id → the sequence number its ack carried. */
  acked: ReadonlyMap<string, number>;
  /** Every message in the store for the conversations under test. */
  stored: readonly { id: string; seq: number; conversationId: string }[];
  /** What each observer shows after catching up, in display order. */
  views: readonly (readonly { id: string; seq: number }[])[];
  /** Counted by the test: deliveries it saw that access rules forbid. */
  unauthorised?: number;
}

export function tally(input: TallyInput): FaultTally {
  const sent = new Set(input.sent);
  const storedSeq = new Map<string, number>();
  let duplicates = 0;
  for (const row of input.stored) {
    if (storedSeq.has(row.id)) duplicates += 1;
    storedSeq.set(row.id, row.seq);
  }
  let ackedButLost = 0;
  for (const [id, seq] of input.acked) if (storedSeq.get(id) !== seq) ackedButLost += 1;
  let outOfOrder = 0;
  for (const view of input.views) {
    const seen = new Set<string>();
    view.forEach((message, index) => {
      if (seen.has(message.id)) duplicates += 1;
      seen.add(message.id);
      const previous = view[index - 1];
      if (previous && message.seq <= previous.seq) outOfOrder += 1;
    });
  }
  return {
    sent: sent.size,
    acked: input.acked.size,
    stored: input.stored.length,
    ackedButLost,
    duplicates,
    outOfOrder,
    unauthorised: input.unauthorised ?? 0,
  };
}

/** Prints the scorecard as a one-row table under the test's name (it shows in the test output). */
export function printTally(name: string, result: FaultTally): void {
  const columns = Object.keys(result) as (keyof FaultTally)[];
  const header = columns.map((c) => c.padStart(Math.max(c.length, 6))).join(' ');
  const row = columns.map((c) => String(result[c]).padStart(Math.max(c.length, 6))).join(' ');
  console.log(`\nfault: ${name}\n${header}\n${row}\n`);
}

/** The columns that must be zero whatever failed. */
export function expectNothingLost(result: FaultTally): void {
  expect({
    ackedButLost: result.ackedButLost,
    duplicates: result.duplicates,
    outOfOrder: result.outOfOrder,
    unauthorised: result.unauthorised,
  }).toEqual({ ackedButLost: 0, duplicates: 0, outOfOrder: 0, unauthorised: 0 });
}
