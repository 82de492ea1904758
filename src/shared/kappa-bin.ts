import { fileURLToPath } from 'node:url';

/**
 * The `kappa` executable that runs the same code as this process, for the processes kappa starts
 * (the schema registry of `kappa up` and `kappa stack up`): bin/kappa.js when this module was
 * compiled into dist/, bin/dev/kappa.js (the sources, through tsx) when it runs from src/ — so a
 * test or a development run never starts a child from a dist/ built before the last edit.
 */
export const KAPPA_BIN = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../bin/dev/kappa.js' : '../../bin/kappa.js', import.meta.url),
);
