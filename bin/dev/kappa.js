#!/usr/bin/env node
// `kappa` from the sources, through tsx's loader: what the tests run (and `npm run kappa -- …`),
// so they always run the code as it is now, never a dist/ built before the last edit.
// bin/kappa.js runs the compiled dist/.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../../src/cli/main.ts');
// A command is over when main resolves: exit even if a client library left a timer or socket behind.
process.exit(await main(process.argv.slice(2)));
