import { KappaError } from '../../shared/errors.js';
import type { TransactionPort } from './transaction-port.js';
import type { OpenTransaction } from './transaction-policy.js';

/**
 * The exactly-once state machine of one input partition, named like kafkajs's
 * `producer/eosManager` (UNINITIALIZED, READY, TRANSACTING, COMMITTING, ABORTING) plus the state
 * our catch-up adds: a transaction carried from one fetched batch into the next.
 */
export type TransactionState =
  /** No producer: the partition's transactional id is not initialised by this instance. */
  | 'closed'
  /** The producer fenced earlier owners and knows the committed offset; no transaction open. */
  | 'ready'
  /** A transaction is open and the current batch sends into it. */
  | 'transacting'
  /** A transaction left open at the end of a backlog batch, for the partition's next batch. */
  | 'carried'
  /** Offsets sent, commit in flight. */
  | 'committing'
  /** Abort in flight: the producer is given up after it, whatever the abort answers. */
  | 'aborting';

export type TransactionCall = 'acquire' | 'begin' | 'send' | 'commit' | 'carry' | 'resume' | 'abandon' | 'release';

/** The calls legal in each state; any other call is a bug and throws IllegalTransitionError. */
export const LEGAL_CALLS: Readonly<Record<TransactionState, readonly TransactionCall[]>> = {
  closed: ['acquire'],
  ready: ['begin', 'release'],
  transacting: ['send', 'commit', 'carry', 'abandon'],
  carried: ['resume', 'abandon'],
  /** Only when the commit fails: its outcome is unknown, the next acquire reads the committed offset. */
  committing: ['abandon'],
  aborting: [],
};

/** A call made in a state where it is not legal (a bug in the driver, never a broker's answer). */
export class IllegalTransitionError extends KappaError {
  readonly partition: number | undefined;
  readonly state: string;
  readonly call: string;

  constructor(partition: number | undefined, state: string, call: string) {
    const where = partition === undefined ? 'the enrichment driver' : `input partition ${partition}`;
    super('KAPPA_ENRICH_ILLEGAL_TRANSITION', `${call} is not legal while ${where} is ${state}`);
    this.name = 'IllegalTransitionError';
    this.partition = partition;
    this.state = state;
    this.call = call;
  }
}

/** What a committed transaction held (for the metrics). */
export interface Committed {
  readonly stages: number;
  readonly deadLetters: number;
}

interface Open extends OpenTransaction {
  records: number;
  stages: number;
  deadLetters: number;
}

/**
 * One input partition's producer and transaction. Every call checks LEGAL_CALLS first and moves
 * the state before it awaits the port, so a failure leaves the state that says what to undo.
 */
export class PartitionTransaction {
  private current: TransactionState = 'closed';
  private opened: Open | undefined;
  /** The committed offset as this producer knows it: records below it are done. */
  floor: bigint | undefined;
  /** Where a carried transaction continues (one past its last record), and in which group generation. */
  carriedTo: { readonly next: bigint; readonly generation: number } | undefined;
  /** Where the consumer was last sought to from this producer's floor (see EnrichmentDriver). */
  soughtTo: bigint | undefined;

  constructor(
    readonly partition: number,
    private readonly port: TransactionPort,
  ) {}

  get state(): TransactionState {
    return this.current;
  }

  /** The open transaction's size and age (transacting or carried). */
  get open(): OpenTransaction | undefined {
    return this.opened;
  }

  private check(call: TransactionCall): void {
    if (!LEGAL_CALLS[this.current].includes(call)) throw new IllegalTransitionError(this.partition, this.current, call);
  }

  async acquire(): Promise<void> {
    this.check('acquire');
    try {
      this.floor = await this.port.acquire(this.partition);
    } catch (error) {
      await this.port.release(this.partition);
      throw error;
    }
    this.soughtTo = undefined;
    this.current = 'ready';
  }

  async begin(now: number): Promise<void> {
    this.check('begin');
    this.current = 'transacting';
    this.opened = { openedAt: now, records: 0, stages: 0, deadLetters: 0 };
    await this.port.begin(this.partition);
  }

  async send(topic: string, messages: Parameters<TransactionPort['send']>[2]): Promise<void> {
    this.check('send');
    await this.port.send(this.partition, topic, messages);
  }

  /** Counts what the last sends held (input records, stages records, dead letters). */
  count(records: number, stages: number, deadLetters: number): void {
    this.check('send');
    const open = this.opened as Open;
    open.records += records;
    open.stages += stages;
    open.deadLetters += deadLetters;
  }

  /** Commits the transaction with the consumer offset `next` (the first record not in it). */
  async commit(next: bigint): Promise<Committed> {
    this.check('commit');
    this.current = 'committing';
    await this.port.sendOffsets(this.partition, next);
    await this.port.commit(this.partition);
    const { stages, deadLetters } = this.opened as Open;
    this.opened = undefined;
    this.floor = next;
    this.current = 'ready';
    return { stages, deadLetters };
  }

  carry(next: bigint, generation: number): void {
    this.check('carry');
    this.carriedTo = { next, generation };
    this.current = 'carried';
  }

  resume(): void {
    this.check('resume');
    this.carriedTo = undefined;
    this.current = 'transacting';
  }

  /**
   * Gives the transaction up (a failure, a rebalance, a stop, a batch that does not continue it):
   * aborts what can be aborted, never trusting the answer, and drops the producer — a kafkajs
   * producer can stay stuck after a broker loss mid-transaction (kafkajs#1416). Its records are
   * redone from the committed offset.
   */
  async abandon(): Promise<void> {
    this.check('abandon');
    this.current = 'aborting';
    this.opened = undefined;
    this.carriedTo = undefined;
    await this.port.abort(this.partition).catch(() => undefined);
    await this.port.release(this.partition);
    this.current = 'closed';
  }

  /** Gives the producer up with no transaction open (the partition moved away, or stop). */
  async release(): Promise<void> {
    this.check('release');
    this.current = 'closed';
    await this.port.release(this.partition);
  }
}
