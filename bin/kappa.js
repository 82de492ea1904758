#!/usr/bin/env -S node --max-semi-space-size=64
// The `kappa` command: the compiled CLI in dist/, which `npm ci` builds (the `prepare` script).
// Development and tests run the sources instead, through bin/dev/kappa.js.
let cli;
try {
  cli = await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli/main.js')) throw error;
  process.stderr.write('kappa: not built yet: run `npm ci` (or `npm run build`) in the kappa folder first\n');
  process.exit(2);
}
// A command is over when main resolves: exit even if a client library left a timer or socket behind.
process.exit(await cli.main(process.argv.slice(2)));
