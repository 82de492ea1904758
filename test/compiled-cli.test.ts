import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv } from './support/cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The CLI as `npm ci` leaves it: scripts/build.js compiles src/ into dist/ and bin/kappa.js runs
 * that. The other tests run the sources (test/support/cli.ts); this one builds the compiled CLI
 * into a folder of its own laid out like the repository (never the worktree's dist/, which a
 * developer may be running) and runs it there.
 */
describe('the compiled CLI (dist/, what bin/kappa.js runs)', () => {
  const home = mkdtempSync(join(tmpdir(), 'kappa-compiled-'));
  const node = (args: readonly string[]) =>
    spawnSync(process.execPath, [join(home, 'bin', 'kappa.js'), ...args], {
      env: cleanEnv(),
      encoding: 'utf8',
      timeout: 60_000,
    });

  beforeAll(() => {
    mkdirSync(join(home, 'bin'));
    copyFileSync(join(ROOT, 'bin', 'kappa.js'), join(home, 'bin', 'kappa.js'));
    copyFileSync(join(ROOT, 'package.json'), join(home, 'package.json'));
    for (const shared of ['node_modules', 'schemas', 'data']) symlinkSync(join(ROOT, shared), join(home, shared));
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.js'), join(home, 'dist')], {
      encoding: 'utf8',
      timeout: 280_000,
    });
    expect(build.status, `${build.stdout}${build.stderr}`).toBe(0);
  }, 300_000);
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it('refuses to start, saying what to run, before it is built', () => {
    const bare = mkdtempSync(join(tmpdir(), 'kappa-unbuilt-'));
    try {
      mkdirSync(join(bare, 'bin'));
      copyFileSync(join(ROOT, 'bin', 'kappa.js'), join(bare, 'bin', 'kappa.js'));
      copyFileSync(join(ROOT, 'package.json'), join(bare, 'package.json'));
      const result = spawnSync(process.execPath, [join(bare, 'bin', 'kappa.js'), '--help'], { encoding: 'utf8' });
      expect(result.status).toBe(2);
      expect(result.stderr).toContain('not built yet: run `npm ci` (or `npm run build`)');
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  it('runs: --help lists the commands, schemas check finds schemas/ from dist/', () => {
    const help = node(['--help']);
    expect(help.status, help.stderr).toBe(0);
    for (const command of ['up', 'enrich', 'aggregate', 'recover', 'cutover', 'status'])
      expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    const check = node(['schemas', 'check']);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain('events-value: v1..');
  });

  it('carries every file the compiled code reads (everything in src/ that is not TypeScript)', () => {
    const source = join(ROOT, 'src');
    const assets = readdirSync(source, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile() && !entry.name.endsWith('.ts') && entry.name !== 'README.md')
      .map((entry) => relative(source, join(entry.parentPath, entry.name)));
    expect(assets).toEqual(
      expect.arrayContaining(['api/dashboard/index.html', 'stack/mongo-stand-in/MongoStandIn.java']),
    );
    for (const asset of assets) expect(existsSync(join(home, 'dist', asset)), asset).toBe(true);
    // Tests and the benchmark harness stay out of it.
    expect(existsSync(join(home, 'dist', 'cli', 'main.test.js'))).toBe(false);
    expect(existsSync(join(home, 'dist', 'bench'))).toBe(false);
  });
});
