import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
let compiled = false;

/**
 * A child process of the bench — the replay child (replay-child.ts) or the API row's server
 * (api-server.ts) — and what it imports, compiled by tsc into `.bench-build/` (tsconfig.bench.json),
 * once per bench run: they then run as `kappa` runs, compiled, without tsx's loader. That loader
 * runs its hooks on a thread of its own, whose V8 isolate alone added ~36 MiB to each replay's peak
 * RSS (71 → 104–109 MiB for a process that only imports the aggregator) — memory `kappa aggregate`
 * never has, measured against the 10M row's bound — and its transform wraps every function
 * created, per call too, in a naming helper `kappa serve` does not run.
 */
export function compiledBenchChild(name: 'replay-child' | 'api-server'): string {
  if (!compiled) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', `${root}tsconfig.bench.json`], { stdio: 'inherit' });
    compiled = true;
  }
  return `${root}.bench-build/bench/${name}.js`;
}
