import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StampedBodies, type Stamp, type StampedRead } from './stamped-bodies.js';

/** What can happen to the store between two statements of a read. */
type Change =
  | { readonly kind: 'commit'; readonly version: 'v1' | 'v2'; readonly partition: 0 | 1 }
  | { readonly kind: 'switch'; readonly to: 'v1' | 'v2' };

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({
    kind: fc.constant('commit' as const),
    version: fc.constantFrom('v1' as const, 'v2' as const),
    partition: fc.constantFrom(0 as const, 1 as const),
  }),
  fc.record({ kind: fc.constant('switch' as const), to: fc.constantFrom('v1' as const, 'v2' as const) }),
);

/**
 * The store as the sink and a switch leave it: each commit adds a row and moves its partition's
 * commit number in one step; a switch moves the pointer. `asked` undefined reads the serving version.
 */
function store() {
  const seqs = { v1: [0, 0], v2: [0, 0] };
  const rows = { v1: 0, v2: 0 };
  let serving: 'v1' | 'v2' = 'v1';
  const apply = (what: Change) => {
    if (what.kind === 'switch') serving = what.to;
    else {
      seqs[what.version][what.partition] = (seqs[what.version][what.partition] ?? 0) + 1;
      rows[what.version] += 1;
    }
  };
  const bodyNow = (asked: 'v1' | 'v2' | undefined) => {
    const version = asked ?? serving;
    return `${version}:${rows[version]}`;
  };
  return {
    apply,
    bodyNow,
    stamp: (asked: 'v1' | 'v2' | undefined): Stamp => {
      const version = asked ?? serving;
      return { version, commits: seqs[version].join(',') };
    },
    read: (asked: 'v1' | 'v2' | undefined): StampedRead => {
      const version = asked ?? serving;
      return { version, body: Buffer.from(bodyNow(asked)) };
    },
  };
}

describe('StampedBodies', () => {
  it('answers every read with the rows as they were at some instant after it began (commits and switches between any two statements)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            asked: fc.constantFrom(undefined, 'v1' as const, 'v2' as const),
            beforeStamp: fc.array(change, { maxLength: 2 }),
            beforeBody: fc.array(change, { maxLength: 2 }),
          }),
          { minLength: 1, maxLength: 60 },
        ),
        fc.integer({ min: 1, max: 64 }),
        async (reads, maxBytes) => {
          const db = store();
          const bodies = new StampedBodies(maxBytes);
          for (const { asked, beforeStamp, beforeBody } of reads) {
            // Every body the store held from the request's arrival to its answer is a fresh answer.
            const fresh = new Set([db.bodyNow(asked)]);
            const answer = await bodies.read(
              String(asked),
              () => {
                for (const what of beforeStamp) {
                  db.apply(what);
                  fresh.add(db.bodyNow(asked));
                }
                return Promise.resolve(db.stamp(asked));
              },
              () => {
                for (const what of beforeBody) {
                  db.apply(what);
                  fresh.add(db.bodyNow(asked));
                }
                return Promise.resolve(db.read(asked));
              },
            );
            expect(fresh).toContain(answer.toString());
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads the rows only when the stamp moved, and keeps nothing read under another version', async () => {
    const bodies = new StampedBodies();
    let bodyReads = 0;
    const read = (stamp: Stamp | undefined, version = stamp?.version ?? 'v1') =>
      bodies.read(
        'users',
        () => Promise.resolve(stamp),
        () => {
          bodyReads += 1;
          return Promise.resolve({ version, body: Buffer.from(`${version}:${bodyReads}`) });
        },
      );
    expect((await read({ version: 'v1', commits: '3,4' })).toString()).toBe('v1:1');
    expect((await read({ version: 'v1', commits: '3,4' })).toString()).toBe('v1:1');
    expect((await read({ version: 'v1', commits: '3,5' })).toString()).toBe('v1:2');
    expect((await read({ version: 'v2', commits: '3,5' })).toString()).toBe('v2:3');
    // A switch between the stamp and the rows: answered, not kept.
    expect((await read({ version: 'v2', commits: '3,6' }, 'v1')).toString()).toBe('v1:4');
    expect((await read({ version: 'v2', commits: '3,6' })).toString()).toBe('v2:5');
    // No stamp (nothing serves): the rows every time.
    expect((await read(undefined)).toString()).toBe('v1:6');
    expect((await read(undefined)).toString()).toBe('v1:7');
    expect(bodies.hits).toBe(1);
    expect(bodies.misses).toBe(7);
  });

  it('keeps at most maxBytes of bodies, dropping the least recently used first', async () => {
    const bodies = new StampedBodies(10);
    const stamp: Stamp = { version: 'v1', commits: '1' };
    let bodyReads = 0;
    const read = (key: string, size: number) =>
      bodies.read(
        key,
        () => Promise.resolve(stamp),
        () => {
          bodyReads += 1;
          return Promise.resolve({ version: 'v1', body: Buffer.alloc(size) });
        },
      );
    await read('a', 4);
    await read('b', 4);
    await read('a', 4); // a kept, now the most recently used
    expect(bodyReads).toBe(2);
    await read('c', 4); // 12 bytes: b goes
    expect(bodies.size).toBe(2);
    await read('a', 4);
    expect(bodyReads).toBe(3);
    await read('b', 4);
    expect(bodyReads).toBe(4);
    await read('big', 11); // larger than everything: answered, never kept
    await read('big', 11);
    expect(bodyReads).toBe(6);
  });
});
