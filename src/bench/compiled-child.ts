import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
let compiled: string | undefined;

/**
 * The replay child (replay-child.ts) and what it imports, compiled by tsc into `.bench-build/`
 * (tsconfig.bench.json), once per bench run: the replays then run as `kappa` runs, compiled,
 * without tsx's loader. That loader runs its hooks on a thread of its own, whose V8 isolate alone
 * added ~36 MiB to each replay's peak RSS (71 → 104–109 MiB for a process that only imports the
 * aggregator) — memory `kappa aggregate` never has, measured against the 10M row's bound.
 */
export function compiledReplayChild(): string {
  if (compiled === undefined) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', `${root}tsconfig.bench.json`], { stdio: 'inherit' });
    compiled = `${root}.bench-build/bench/replay-child.js`;
  }
  return compiled;
}
