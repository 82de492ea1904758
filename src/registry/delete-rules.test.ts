import { describe, expect, it } from 'vitest';
import { subjectDeleteProblem, versionToDelete } from './delete-rules.js';
import { RegistryError } from './registry-errors.js';
import type { SchemaVersion } from './registry-state.js';

const entry = (version: number, deleted: boolean): SchemaVersion => ({
  subject: 's',
  version,
  id: version,
  schema: '"int"',
  deleted,
});

function code(run: () => unknown): number | string {
  try {
    const result = run();
    return result instanceof RegistryError
      ? result.errorCode
      : ((result as SchemaVersion | undefined)?.version ?? 'ok');
  } catch (error) {
    return (error as RegistryError).errorCode;
  }
}

describe('delete rules (Confluent’s codes)', () => {
  const mixed = [entry(1, true), entry(2, false), entry(3, true)];

  it.each([
    ['no versions, soft', [], false, 40401],
    ['no versions, permanent', [], true, 40401],
    ['live versions, soft', mixed, false, 'ok'],
    ['live versions, permanent', mixed, true, 40405],
    ['all soft-deleted, soft', [entry(1, true)], false, 40404],
    ['all soft-deleted, permanent', [entry(1, true)], true, 'ok'],
  ] as const)('a subject with %s', (_label, versions, permanent, expected) => {
    expect(code(() => subjectDeleteProblem('s', versions, permanent))).toBe(expected);
  });

  it.each([
    [2, false, 2],
    [2, true, 40407],
    [1, false, 40406],
    [1, true, 1],
    [9, false, 40402],
    ['latest', false, 2],
    ['latest', true, 3],
  ] as const)(
    'version %s (permanent: %s) of a subject with versions 1 (deleted), 2, 3 (deleted)',
    (version, permanent, expected) => {
      expect(code(() => versionToDelete('s', mixed, version, permanent))).toBe(expected);
    },
  );

  it('softly deleting latest when every version is soft-deleted is 40406', () => {
    expect(code(() => versionToDelete('s', [entry(1, true)], 'latest', false))).toBe(40406);
    expect(code(() => versionToDelete('s', [], 1, false))).toBe(40401);
  });
});
