import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Why dist/ (what `bin/kappa.js` runs: the bench's stage processes and CLI rows) is older than the
 * sources it is built from, or undefined. `npm run bench` builds first; `tsx src/bench/run.ts` alone
 * would otherwise measure yesterday's compiled code beside today's in-process rows.
 */
export function staleDist(root: string): string | undefined {
  const built = join(root, 'dist', 'cli', 'main.js');
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    return `${relative(root, built)} does not exist`;
  }
  const source = join(root, 'src');
  for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
    const file = join(entry.parentPath, entry.name);
    const compiled = entry.isFile() && file.endsWith('.ts') && !file.endsWith('.test.ts');
    if (!compiled || relative(source, file).startsWith('bench')) continue;
    if (statSync(file).mtimeMs > builtAt) return `${relative(root, file)} changed after dist/ was built`;
  }
  return undefined;
}
