#!/usr/bin/env node
// The `kappa` command. The sources are TypeScript run through tsx's loader, so a fresh clone needs
// no build step (and no install script) before `npx kappa` works.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
// A command is over when main resolves: exit even if a client library left a timer or socket behind.
process.exit(await main(process.argv.slice(2)));
