import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REGISTRY_ERRORS } from './registry-errors.js';

const documented = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
// Besides the kinds of registry-errors.ts, Fastify's own errors leave with their status as error_code.
const section = documented.slice(documented.indexOf('## Schema registry answers'));

describe('registry error codes', () => {
  it.each(Object.entries(REGISTRY_ERRORS))('%s is documented with its HTTP status', (_kind, { status, errorCode }) => {
    const row = section.split('\n').find((line) => line.startsWith(`| \`${errorCode}\` |`));
    expect(row, `docs/errors.md has no row for error_code ${errorCode}`).toBeDefined();
    expect(Number((row ?? '').split('|')[2]?.trim())).toBe(status);
  });

  it('documents no code that does not exist', () => {
    const listed = [...section.matchAll(/^\| `(\d+)` \|/gm)].map((match) => Number(match[1]));
    const codes = [...new Set([...Object.values(REGISTRY_ERRORS).map((entry) => entry.errorCode), 413, 415, 422])];
    expect(listed.sort()).toEqual(codes.sort());
  });
});
