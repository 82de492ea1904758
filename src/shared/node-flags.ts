/**
 * The V8 flags every kappa process runs with. They cannot be set from inside a running process (V8
 * sizes its heap at start-up), so each way of starting kappa carries them itself: the shebang of
 * `bin/kappa.js` (`env -S`), `npm start`, the Dockerfile's entry point and the bench's child
 * processes. `node-flags.test.ts` checks that all of them carry exactly these.
 *
 * `--max-semi-space-size=64` (MiB; V8's default here is 16): the aggregator holds a whole fetch
 * (up to 4 MiB of records, decoded by kafkajs into ~10× that in objects) while it processes it, so
 * with 16 MiB semi-spaces most of those objects lived through two scavenges, were copied twice and
 * promoted, only to die in the old space: scavenges were ~27 % of a replay's CPU. With 64 MiB they
 * die young; the 1M replay ran 0.70 → 0.84–0.99 of consume + decode at the same peak RSS
 * (bench/README.md, "Speed, round 3").
 */
export const KAPPA_NODE_FLAGS = ['--max-semi-space-size=64'] as const;
