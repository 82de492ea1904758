import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KappaError } from '../shared/errors.js';
import { parseAvro } from './avro-schema.js';
import {
  compatibilityViolations,
  DEFAULT_COMPATIBILITY,
  describeViolation,
  isCompatibilityLevel,
  type CompatibilityLevel,
} from './compatibility.js';
import { RegistryError } from './registry-errors.js';

export interface SchemaVersionFile {
  readonly version: number;
  readonly file: string;
  readonly schema: string;
}

/** One folder of `schemas/`: a topic's value schemas, oldest first. */
export interface SchemaHistory {
  readonly name: string;
  readonly level: CompatibilityLevel;
  readonly versions: readonly SchemaVersionFile[];
}

const VERSION_FILE = /^v(\d+)\.avsc$/;

async function readLevels(dir: string): Promise<Record<string, CompatibilityLevel>> {
  const file = join(dir, 'compatibility.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return {};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new KappaError('KAPPA_SCHEMAS_INVALID', `${file}: not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new KappaError('KAPPA_SCHEMAS_INVALID', `${file}: expected an object of folder → level`);
  const levels: Record<string, CompatibilityLevel> = {};
  for (const [name, level] of Object.entries(parsed)) {
    if (!isCompatibilityLevel(level))
      throw new KappaError(
        'KAPPA_SCHEMAS_INVALID',
        `${file}: "${name}" has level ${JSON.stringify(level)}; expected one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE`,
      );
    levels[name] = level;
  }
  return levels;
}

/** The newest schema of one folder (`events_stages`, `events`): what a stage reads that topic with. */
export async function newestSchema(dir: string, subject: string): Promise<string> {
  const histories = await loadSchemaHistories(dir);
  const schema = histories.find((history) => history.name === subject)?.versions.at(-1)?.schema;
  if (schema === undefined)
    throw new KappaError('KAPPA_SCHEMAS_INVALID', `the schemas directory has no ${subject}/ history`);
  return schema;
}

/** Reads every folder of a schemas directory; versions must run v1, v2, … without gaps. */
export async function loadSchemaHistories(dir: string): Promise<SchemaHistory[]> {
  const levels = await readLevels(dir);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new KappaError(
      'KAPPA_SCHEMAS_INVALID',
      `cannot read the schemas directory ${dir}: ${(error as Error).message}`,
    );
  }
  const histories: SchemaHistory[] = [];
  for (const entry of entries.filter((item) => item.isDirectory()).sort((a, b) => a.name.localeCompare(b.name))) {
    const folder = join(dir, entry.name);
    const files = (await readdir(folder)).filter((file) => file.endsWith('.avsc'));
    const versions: SchemaVersionFile[] = [];
    for (const file of files) {
      const match = VERSION_FILE.exec(file);
      if (!match)
        throw new KappaError('KAPPA_SCHEMAS_INVALID', `${join(folder, file)}: schema files are named v<N>.avsc`);
      versions.push({
        version: Number(match[1]),
        file: join(folder, file),
        schema: await readFile(join(folder, file), 'utf8'),
      });
    }
    versions.sort((a, b) => a.version - b.version);
    versions.forEach((version, index) => {
      if (version.version !== index + 1)
        throw new KappaError(
          'KAPPA_SCHEMAS_INVALID',
          `${folder}: versions must run v1, v2, … without gaps; found v${version.version} where v${index + 1} was expected`,
        );
    });
    if (versions.length > 0)
      histories.push({ name: entry.name, level: levels[entry.name] ?? DEFAULT_COMPATIBILITY, versions });
  }
  return histories;
}

/**
 * Checks a history offline: every version parses, and each is compatible with the earlier ones
 * under the history's level — what the registry will demand when they are registered in order.
 * Returns one line per problem, naming the file (so the subject and version) and the field.
 */
export function checkSchemaHistory(history: SchemaHistory, subject: string = history.name): string[] {
  const parsed = [];
  const problems: string[] = [];
  for (const entry of history.versions) {
    let type;
    try {
      type = parseAvro(entry.schema);
    } catch (error) {
      problems.push(`${entry.file}: ${error instanceof RegistryError ? error.message : String(error)}`);
      continue;
    }
    const violations = compatibilityViolations(history.level, type, parsed);
    for (const violation of violations)
      problems.push(
        `${entry.file}: ${subject} v${entry.version} is not ${history.level} compatible: ${describeViolation(violation)}`,
      );
    parsed.push({ version: entry.version, type });
  }
  return problems;
}
