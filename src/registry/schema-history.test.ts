import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KappaError } from '../shared/errors.js';
import { checkSchemaHistory, loadSchemaHistories } from './schema-history.js';

const shipped = fileURLToPath(new URL('../../schemas', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kappa-schemas-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

async function loadError(dir: string): Promise<KappaError> {
  try {
    await loadSchemaHistories(dir);
  } catch (error) {
    if (error instanceof KappaError) return error;
    throw error;
  }
  throw new Error('expected loading to fail');
}

const record = (fields: object[]) => JSON.stringify({ type: 'record', name: 'R', fields });

describe('schema histories', () => {
  it('load the shipped schemas: events v1, v2 and events_stages v1, all compatible', async () => {
    const histories = await loadSchemaHistories(shipped);
    expect(
      histories.map((history) => [history.name, history.level, history.versions.map((entry) => entry.version)]),
    ).toEqual([
      ['events', 'BACKWARD', [1, 2]],
      ['events_stages', 'BACKWARD', [1]],
    ]);
    expect(histories.flatMap((history) => checkSchemaHistory(history))).toEqual([]);
  });

  it('events v2 adds an optional timestamp-millis event_ts with a default', async () => {
    const [events] = await loadSchemaHistories(shipped);
    const v2 = JSON.parse(events?.versions[1]?.schema ?? '{}') as {
      fields: { name: string; type: unknown; default?: unknown }[];
    };
    expect(v2.fields.find((field) => field.name === 'event_ts')).toMatchObject({
      type: ['null', { type: 'long', logicalType: 'timestamp-millis' }],
      default: null,
    });
  });

  it('report a type change naming subject, version and field', async () => {
    const [events] = await loadSchemaHistories(fixture('schemas-type-change'));
    const problems = checkSchemaHistory(events ?? { name: '', level: 'NONE', versions: [] }, 'events-value');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /v3\.avsc: events-value v3 is not BACKWARD compatible: cannot read data written with version 2: field dev\.kappa\.Event\.id: cannot read long as string$/,
    );
  });

  it('report a removed field without default under FULL', async () => {
    const [events] = await loadSchemaHistories(fixture('schemas-removed-field'));
    expect(events?.level).toBe('FULL');
    expect(checkSchemaHistory(events ?? { name: '', level: 'NONE', versions: [] }, 'events-value')).toEqual([
      expect.stringMatching(
        /v2\.avsc: events-value v2 is not FULL compatible: version 1 cannot read its data: field dev\.kappa\.Event\.hello: the reader field has no default/,
      ),
    ]);
  });

  it('check every earlier version under a transitive level only', () => {
    const v1 = record([{ name: 'a', type: 'int' }]);
    const v2 = record([
      { name: 'a', type: 'int' },
      { name: 'b', type: 'int', default: 0 },
    ]);
    const v3 = record([{ name: 'b', type: 'int' }]);
    const versions = [v1, v2, v3].map((schema, index) => ({ version: index + 1, file: `v${index + 1}.avsc`, schema }));
    expect(checkSchemaHistory({ name: 's', level: 'BACKWARD', versions })).toEqual([]);
    expect(checkSchemaHistory({ name: 's', level: 'BACKWARD_TRANSITIVE', versions })).toEqual([
      expect.stringContaining('cannot read data written with version 1: field R.b'),
    ]);
  });

  it('report a file that is not an Avro schema', () => {
    const problems = checkSchemaHistory({
      name: 's',
      level: 'BACKWARD',
      versions: [{ version: 1, file: 'v1.avsc', schema: '{"type":"record"}' }],
    });
    expect(problems).toEqual([expect.stringMatching(/^v1\.avsc: Invalid schema/)]);
  });

  it('refuse gaps, badly named files and bad levels, naming the file', async () => {
    expect((await loadError(fixture('schemas-gap'))).message).toMatch(
      /schemas-gap\/events: versions must run v1, v2, … without gaps; found v3 where v2 was expected/,
    );
    expect((await loadError(tree({ 'events/first.avsc': record([]) }))).message).toMatch(
      /first\.avsc: schema files are named v<N>\.avsc/,
    );
    expect((await loadError(tree({ 'compatibility.json': '{"events":"SIDEWAYS"}' }))).message).toMatch(
      /"events" has level "SIDEWAYS"/,
    );
    expect((await loadError(tree({ 'compatibility.json': '[1]' }))).message).toMatch(/expected an object/);
    expect((await loadError(tree({ 'compatibility.json': '{' }))).message).toMatch(/not JSON/);
    expect((await loadError('/nonexistent/schemas')).code).toBe('KAPPA_SCHEMAS_INVALID');
  });
});
