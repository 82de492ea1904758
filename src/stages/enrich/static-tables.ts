import { readFile } from 'node:fs/promises';
import { KappaError } from '../../shared/errors.js';
import type { EnrichmentTables, StaticTable } from './rules.js';

/**
 * Parses a JSON-lines table such as data/names.jsonl (`{"uid":0,"name":"..."}`). Blank lines are
 * allowed; anything else that is not an object with an integer key and a string name is a
 * startup error naming the file and the line.
 */
export function parseStaticTable(text: string, keyField: string, file: string): StaticTable {
  const table = new Map<number, string>();
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${file}:${index + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (error) {
      throw new KappaError('KAPPA_TABLE_INVALID', `${where}: not JSON (${(error as Error).message})`);
    }
    const record = typeof row === 'object' && row !== null ? (row as Record<string, unknown>) : {};
    const key = record[keyField];
    const name = record['name'];
    if (typeof key !== 'number' || !Number.isInteger(key) || typeof name !== 'string') {
      throw new KappaError(
        'KAPPA_TABLE_INVALID',
        `${where}: expected {"${keyField}": <integer>, "name": "<text>"}, got ${line.trim()}`,
      );
    }
    if (table.has(key)) throw new KappaError('KAPPA_TABLE_INVALID', `${where}: ${keyField} ${key} appears twice`);
    table.set(key, name);
  });
  return table;
}

export async function loadStaticTable(file: string, keyField: string): Promise<StaticTable> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new KappaError('KAPPA_TABLE_INVALID', `${file}: cannot read it (${(error as Error).message})`);
  }
  return parseStaticTable(text, keyField, file);
}

/** The enrichment's tables and gender labels, from the settings of the same names. */
export async function loadEnrichmentTables(settings: {
  readonly namesFile: string;
  readonly deptsFile: string;
  readonly genderMale: string;
  readonly genderFemale: string;
}): Promise<EnrichmentTables> {
  const [names, depts] = await Promise.all([
    loadStaticTable(settings.namesFile, 'uid'),
    loadStaticTable(settings.deptsFile, 'did'),
  ]);
  return { names, depts, maleLabel: settings.genderMale, femaleLabel: settings.genderFemale };
}
