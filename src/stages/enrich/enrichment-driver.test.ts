import fc from 'fast-check';
import type { Message } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { EnrichmentDriver, type BatchControl, type Enriched } from './enrichment-driver.js';
import { MemoryTransactionalLog, type Fault, type PortCall } from './memory-transactional-log.js';
import type { TransactionPort } from './transaction-port.js';
import {
  LEGAL_CALLS,
  PartitionTransaction,
  type TransactionCall,
  type TransactionState,
} from './partition-transaction.js';

/**
 * The enrichment driven without a broker, against MemoryTransactionalLog, with a consumer that
 * behaves like kafkajs's: it fetches on from where the last batch was processed (not from the
 * committed offset) until a rebalance or a restart, which fetch from the committed offsets.
 */

interface Input {
  readonly offset: bigint;
  readonly bad: boolean;
}

const STAGES = 'stages';
const DLQ = 'events.dlq';

/** Input record → one stages record or one dead letter, naming its source. */
function enrichInput(partition: number, records: readonly Input[]): Enriched {
  const stages: Message[] = [];
  const deadLetters: Message[] = [];
  for (const record of records) {
    const message = { key: null, value: Buffer.from(`${partition}:${record.offset}`) };
    (record.bad ? deadLetters : stages).push(message);
  }
  return { stages, deadLetters };
}

type Step =
  | {
      readonly kind: 'batch';
      readonly partition: number;
      readonly size: number;
      readonly backlog: boolean;
      readonly redeliver: number;
      /** isActive() turns false after this many checks (a rebalance or stop under way), then the group rebalances. */
      readonly activeFor: number | undefined;
    }
  | { readonly kind: 'rebalance'; readonly assigned: readonly number[] }
  | { readonly kind: 'stop' }
  | { readonly kind: 'crash' };

const PARTITIONS = 2;

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      partition: fc.integer({ min: 0, max: PARTITIONS - 1 }),
      size: fc.integer({ min: 1, max: 6 }),
      backlog: fc.boolean(),
      redeliver: fc.constantFrom(0, 0, 0, 1, 3),
      activeFor: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 6 }).map((value) => value ?? undefined),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('rebalance' as const),
      assigned: fc.subarray([0, 1]),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'stop' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

const CALLS: readonly (PortCall | 'enrich')[] = [
  'acquire',
  'begin',
  'send',
  'sendOffsets',
  'commit',
  'abort',
  'enrich',
];

/** Failures: the n-th call of every `period` calls of each kind fails, before or after it takes effect. */
const faultsArbitrary = fc.array(
  fc.record({
    call: fc.constantFrom(...CALLS),
    period: fc.integer({ min: 2, max: 9 }),
    nth: fc.nat({ max: 8 }),
    fault: fc.constantFrom<Fault>('before', 'after'),
  }),
  { maxLength: 4 },
);

class Simulation {
  readonly log = new MemoryTransactionalLog();
  private readonly calls = new Map<string, number>();
  faulty = true;
  driver: EnrichmentDriver<Input>;
  /** Where the consumer fetches each partition next (kafkajs's resolved offsets). */
  readonly position = new Map<number, bigint>();
  assigned: readonly number[] = [0, 1];
  private clock = 0;

  constructor(
    readonly inputs: readonly (readonly Input[])[],
    private readonly faults: readonly { call: string; period: number; nth: number; fault: Fault }[],
    private readonly policy: { maxRecords: number; maxMs: number },
  ) {
    this.log.fault = (call) => this.faultOf(call);
    this.driver = this.start();
  }

  private faultOf(call: string): Fault | undefined {
    const count = this.calls.get(call) ?? 0;
    this.calls.set(call, count + 1);
    if (!this.faulty) return undefined;
    return this.faults.find((entry) => entry.call === call && count % entry.period === entry.nth % entry.period)?.fault;
  }

  /** A new instance: its own producers, the consumer from the committed offsets. */
  start(): EnrichmentDriver<Input> {
    this.driver = new EnrichmentDriver<Input>({
      port: this.log.port(),
      stagesTopic: STAGES,
      deadLetterTopic: DLQ,
      offsetOf: (record) => record.offset,
      enrich: (partition, records) => {
        if (this.faultOf('enrich') !== undefined) return Promise.reject(new Error('injected enrich failure'));
        return Promise.resolve(enrichInput(partition, records));
      },
      policy: this.policy,
      clock: () => (this.clock += 1),
    });
    this.fromCommitted();
    return this.driver;
  }

  fromCommitted(): void {
    for (let partition = 0; partition < PARTITIONS; partition += 1)
      this.position.set(partition, this.log.committedOffsets.get(partition) ?? 0n);
  }

  async rebalance(assigned: readonly number[]): Promise<void> {
    this.assigned = assigned;
    await this.driver.rebalance(new Set(assigned));
    this.fromCommitted();
  }

  /** One fetch of `size` records from the consumer's position (or a little before: a re-delivery). */
  async batch(partition: number, size: number, backlog: boolean, redeliver = 0, activeFor?: number): Promise<void> {
    const input = this.inputs[partition] ?? [];
    const position = this.position.get(partition) ?? 0n;
    const from = position - BigInt(redeliver) < 0n ? 0n : position - BigInt(redeliver);
    const records = input.slice(Number(from), Number(from) + size);
    if (records.length === 0) return;
    const end = Number(from) + records.length;
    let checks = 0;
    const control: BatchControl = {
      isActive: () => activeFor === undefined || checks++ < activeFor,
      processed: (next) => {
        this.position.set(partition, next);
      },
      heartbeat: () => Promise.resolve(),
    };
    const outcome = await this.driver
      .batch(partition, records, { from, backlog: backlog && end < input.length }, control)
      .catch(() => undefined); // kafkajs fetches on from the processed position
    if (outcome?.kind === 'seek') this.position.set(partition, outcome.offset);
  }

  async step(step: Step): Promise<void> {
    if (step.kind === 'batch') {
      if (!this.assigned.includes(step.partition)) return;
      await this.batch(step.partition, step.size, step.backlog, step.redeliver, step.activeFor);
      // A batch cut short: the group is rebalancing.
      if (step.activeFor !== undefined) await this.rebalance(this.assigned);
    } else if (step.kind === 'rebalance') await this.rebalance(step.assigned);
    else if (step.kind === 'stop') {
      await this.driver.stop();
      this.start();
    } else this.start(); // kill -9: the old instance's open transaction stays until fenced
  }

  /** No more failures: live batches until every partition's committed offset is at its end. */
  async drain(): Promise<void> {
    this.faulty = false;
    // No rebalance unless needed: it would reset the positions and hide records fetched past.
    if (this.assigned.length < PARTITIONS) await this.rebalance([0, 1]);
    for (let round = 0; round < 200; round += 1) {
      const behind = this.inputs
        .map((input, partition) => ({ partition, end: BigInt(input.length) }))
        .filter(({ partition, end }) => (this.log.committedOffsets.get(partition) ?? 0n) < end);
      if (behind.length === 0) return;
      for (const { partition } of behind) await this.batch(partition, 4, true);
    }
    throw new Error('the committed offsets never reached the end of the input');
  }
}

/** Each input record's output (stages record or dead letter), as read_committed readers see them. */
function outputsOf(log: MemoryTransactionalLog): Map<string, number> {
  const seen = new Map<string, number>();
  for (const { message } of [...log.readCommitted(STAGES), ...log.readCommitted(DLQ)]) {
    const source = String(message.value);
    seen.set(source, (seen.get(source) ?? 0) + 1);
  }
  return seen;
}

function inputOf(bad: readonly boolean[]): Input[] {
  return bad.map((isBad, offset) => ({ offset: BigInt(offset), bad: isBad }));
}

describe('EnrichmentDriver', () => {
  it('writes every input record exactly once through backlog and live batches, rebalances, stops, crashes and failures at every call', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.boolean(), { minLength: 3, maxLength: 24 }), {
          minLength: PARTITIONS,
          maxLength: PARTITIONS,
        }),
        fc.array(stepArbitrary, { minLength: 4, maxLength: 30 }),
        faultsArbitrary,
        fc.record({ maxRecords: fc.integer({ min: 1, max: 12 }), maxMs: fc.integer({ min: 1, max: 30 }) }),
        async (bad, steps, faults, policy) => {
          const inputs = bad.map((flags) => inputOf(flags.map((flag, index) => flag && index % 3 === 0)));
          const simulation = new Simulation(inputs, faults, policy);
          for (const step of steps) await simulation.step(step);
          await simulation.drain();
          await simulation.driver.stop();
          const { log } = simulation;
          expect(log.violations).toEqual([]);
          const expected = new Map(
            inputs.flatMap((input, partition) => input.map((record) => [`${partition}:${record.offset}`, 1] as const)),
          );
          expect(outputsOf(log)).toEqual(expected);
          // Partition-preserving and in order: each input partition's outputs in offset order.
          for (let partition = 0; partition < PARTITIONS; partition += 1) {
            const offsets = log
              .readCommitted(STAGES)
              .filter((record) => record.partition === partition)
              .map((record) => Number(String(record.message.value).split(':')[1]));
            expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('carries a transaction across the batches of a backlog and commits it by the policy', async () => {
    const simulation = new Simulation([inputOf(Array<boolean>(10).fill(false)), []], [], { maxRecords: 7, maxMs: 1e9 });
    await simulation.batch(0, 3, true);
    expect(simulation.driver.stateOf(0)).toBe('carried');
    expect(simulation.log.committedOffsets.get(0)).toBeUndefined();
    await simulation.batch(0, 3, true);
    await simulation.batch(0, 3, true);
    // The seventh record filled the transaction: committed mid-batch, the rest carried on.
    expect(simulation.log.committedOffsets.get(0)).toBe(7n);
    expect(simulation.driver.stateOf(0)).toBe('carried');
    await simulation.batch(0, 3, false);
    expect(simulation.log.committedOffsets.get(0)).toBe(10n);
    expect(simulation.driver.stateOf(0)).toBe('ready');
    expect(outputsOf(simulation.log).size).toBe(10);
  });

  it('seeks back to the committed offset when a failure gave up a carried transaction the consumer had fetched past', async () => {
    const faults = [{ call: 'send', period: 1_000, nth: 1, fault: 'before' as const }];
    const simulation = new Simulation([inputOf(Array<boolean>(6).fill(false)), []], faults, {
      maxRecords: 100,
      maxMs: 1e9,
    });
    await simulation.batch(0, 3, true); // send #0: carried, the consumer fetches on from 3
    await simulation.batch(0, 3, false); // send #1 fails: the carried records 0..2 are aborted too
    expect(simulation.position.get(0)).toBe(3n);
    await simulation.batch(0, 3, false);
    expect(simulation.position.get(0), 'the driver asked for a seek').toBe(0n);
    await simulation.batch(0, 6, false);
    expect(simulation.log.committedOffsets.get(0)).toBe(6n);
    expect([...outputsOf(simulation.log).values()]).toEqual(Array<number>(6).fill(1));
  });

  it('aborts a carried transaction on a rebalance and on stop, and refuses batches once stopped', async () => {
    const simulation = new Simulation([inputOf(Array<boolean>(10).fill(false)), []], [], {
      maxRecords: 100,
      maxMs: 1e9,
    });
    await simulation.batch(0, 3, true);
    await simulation.rebalance([0]);
    expect(simulation.driver.stateOf(0)).toBe('closed');
    await simulation.batch(0, 3, true);
    expect(simulation.driver.stateOf(0)).toBe('carried');
    await simulation.driver.stop();
    expect(simulation.driver.stateOf(0)).toBe('closed');
    expect(simulation.log.readCommitted(STAGES)).toEqual([]);
    await expect(simulation.driver.batch(0, [])).rejects.toMatchObject({
      code: 'KAPPA_ENRICH_ILLEGAL_TRANSITION',
      state: 'stopped',
      call: 'batch',
    });
  });
});

describe('EnrichmentDriver: a slice is enriched while the last one is being sent', () => {
  /** The memory log's port, its sends settling a turn of the event loop later; every step in `events`. */
  function slowSends(log: MemoryTransactionalLog, events: string[], failSend?: number): TransactionPort {
    const port = log.port();
    let sends = 0;
    return {
      ...port,
      send: async (partition, topic, messages) => {
        const nth = (sends += 1);
        events.push(`send ${nth}`);
        await new Promise((resolve) => setImmediate(resolve));
        if (nth === failSend) throw new Error(`send ${nth} failed`);
        await port.send(partition, topic, messages);
        events.push(`sent ${nth}`);
      },
    };
  }

  function driverOn(port: TransactionPort, events: string[]): EnrichmentDriver<Input> {
    let slices = 0;
    return new EnrichmentDriver<Input>({
      port,
      stagesTopic: STAGES,
      deadLetterTopic: DLQ,
      offsetOf: (record) => record.offset,
      enrich: (partition, records) => {
        events.push(`enrich ${(slices += 1)}`);
        return Promise.resolve(enrichInput(partition, records));
      },
      policy: { maxRecords: 100_000, maxMs: 1e9 },
    });
  }

  const input = inputOf(Array<boolean>(5_000).fill(false)); // three slices of SEND_SLICE at most

  it('enriches the next slice before the last send settles, and sends one slice at a time', async () => {
    const log = new MemoryTransactionalLog();
    const events: string[] = [];
    await driverOn(slowSends(log, events), events).batch(0, input);
    expect(events).toEqual([
      'enrich 1',
      'send 1',
      'enrich 2',
      'sent 1',
      'send 2',
      'enrich 3',
      'sent 2',
      'send 3',
      'sent 3',
    ]);
    expect(log.committedOffsets.get(0)).toBe(5_000n);
    expect(outputsOf(log).size).toBe(5_000);
  });

  it('gives the transaction up when a send fails while the next slice is enriched: nothing of it commits', async () => {
    const log = new MemoryTransactionalLog();
    const events: string[] = [];
    const driver = driverOn(slowSends(log, events, 2), events);
    await expect(driver.batch(0, input)).rejects.toThrow('send 2 failed');
    expect(events).toEqual(['enrich 1', 'send 1', 'enrich 2', 'sent 1', 'send 2', 'enrich 3']);
    expect(driver.stateOf(0)).toBe('closed');
    expect(log.committedOffsets.get(0)).toBeUndefined();
    expect(log.readCommitted(STAGES)).toEqual([]);
  });
});

describe('PartitionTransaction', () => {
  const calls: readonly TransactionCall[] = [
    'acquire',
    'begin',
    'send',
    'commit',
    'carry',
    'resume',
    'abandon',
    'release',
  ];

  /** A partition's transaction brought to `state` by legal calls (committing and aborting: a port call held open). */
  async function reach(state: TransactionState): Promise<PartitionTransaction> {
    const log = new MemoryTransactionalLog();
    const port = log.port();
    const hold = new Promise<void>(() => undefined);
    const held = { ...port, commit: () => hold, abort: () => hold };
    const transaction = new PartitionTransaction(0, held);
    if (state === 'closed') return transaction;
    await transaction.acquire();
    if (state === 'ready') return transaction;
    await transaction.begin(0);
    if (state === 'transacting') return transaction;
    if (state === 'carried') {
      transaction.carry(1n, 0);
      return transaction;
    }
    if (state === 'committing') void transaction.commit(1n);
    else void transaction.abandon();
    await new Promise((resolve) => setImmediate(resolve));
    expect(transaction.state).toBe(state);
    return transaction;
  }

  function attempt(transaction: PartitionTransaction, call: TransactionCall): Promise<unknown> {
    return Promise.resolve().then((): unknown => {
      switch (call) {
        case 'acquire':
          return transaction.acquire();
        case 'begin':
          return transaction.begin(0);
        case 'send':
          return transaction.send(STAGES, []);
        case 'commit':
          return transaction.commit(1n);
        case 'carry':
          return transaction.carry(1n, 0);
        case 'resume':
          return transaction.resume();
        case 'abandon':
          return transaction.abandon();
        case 'release':
          return transaction.release();
      }
    });
  }

  const illegal = (Object.keys(LEGAL_CALLS) as TransactionState[]).flatMap((state) =>
    calls.filter((call) => !LEGAL_CALLS[state].includes(call)).map((call) => [state, call] as const),
  );

  it.each(illegal)('in %s, %s throws KAPPA_ENRICH_ILLEGAL_TRANSITION and changes nothing', async (state, call) => {
    const transaction = await reach(state);
    await expect(attempt(transaction, call)).rejects.toMatchObject({
      code: 'KAPPA_ENRICH_ILLEGAL_TRANSITION',
      partition: 0,
      state,
      call,
    });
    expect(transaction.state).toBe(state);
  });
});
