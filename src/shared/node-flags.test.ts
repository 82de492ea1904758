import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KAPPA_NODE_FLAGS } from './node-flags.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('KAPPA_NODE_FLAGS: every way of starting kappa carries them', () => {
  it('bin/kappa.js, as an executable (its shebang)', () => {
    expect(read('bin/kappa.js').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${KAPPA_NODE_FLAGS.join(' ')}`);
  });

  it('npm start', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['start']).toBe(`node ${KAPPA_NODE_FLAGS.join(' ')} bin/kappa.js up`);
  });

  it("the Docker image's entry point", () => {
    const entry = /^ENTRYPOINT (.*)$/m.exec(read('Dockerfile'))?.[1];
    expect(JSON.parse(entry ?? 'null')).toEqual(['node', ...KAPPA_NODE_FLAGS, 'bin/kappa.js']);
  });
});
