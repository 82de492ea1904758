// `npm run build`, and `npm ci` through `prepare`: compiles src/ into dist/ (tsconfig.build.json)
// and copies beside the compiled modules the files they read at run time (the dashboard's page,
// script and styles, the MongoDB stand-in's launcher), so dist/ resolves them as src/ does.
// `node scripts/build.js <dir>` builds into another directory (the test of the compiled CLI).
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'src');
const out = resolve(process.argv[2] ?? join(root, 'dist'));

/** Files the compiled code reads: everything under src/ that tsc does not compile, but the README. */
function isAsset(file) {
  return !file.endsWith('.ts') && relative(source, file) !== 'README.md';
}

// A clean build: a module deleted from src/ must not live on in dist/.
rmSync(out, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit' });
for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
  const file = join(entry.parentPath, entry.name);
  if (entry.isFile() && isAsset(file)) cpSync(file, join(out, relative(source, file)));
}
