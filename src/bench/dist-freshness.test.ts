import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { staleDist } from './dist-freshness.js';

function project(): { root: string; at: (path: string, seconds: number) => void } {
  const root = mkdtempSync(join(tmpdir(), 'kappa-dist-freshness-'));
  const at = (path: string, seconds: number) => {
    const file = join(root, path);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '');
    utimesSync(file, seconds, seconds);
  };
  return { root, at };
}

describe('staleDist', () => {
  it('says nothing when dist/ was built after every compiled source', () => {
    const { root, at } = project();
    at('src/aggregates/run.ts', 1_000);
    at('dist/cli/main.js', 2_000);
    expect(staleDist(root)).toBeUndefined();
  });

  it('names a source changed after the build, but not tests or the bench (not compiled)', () => {
    const { root, at } = project();
    at('dist/cli/main.js', 2_000);
    at('src/aggregates/run.test.ts', 3_000);
    at('src/bench/run.ts', 3_000);
    expect(staleDist(root)).toBeUndefined();
    at('src/aggregates/run.ts', 3_000);
    expect(staleDist(root)).toBe('src/aggregates/run.ts changed after dist/ was built');
  });

  it('says when there is no build at all', () => {
    const { root, at } = project();
    at('src/aggregates/run.ts', 1_000);
    expect(staleDist(root)).toBe('dist/cli/main.js does not exist');
  });
});
