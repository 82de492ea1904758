import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The map of src/ (src/README.md), bottom up: a folder imports only folders on lower floors.
 * Folders on one floor do not import each other. The composition roots (`cli`, `bench`) stand on
 * the top floor and may import anything. A new folder must be placed here, which is the point:
 * where it stands is decided once, not found out by the next circle.
 */
const FLOORS: readonly (readonly string[])[] = [
  ['shared'],
  ['model'],
  ['config'],
  ['kafka'],
  ['registry', 'stack'],
  ['stages/runtime'],
  ['stages/enrich'],
  ['aggregates'],
  ['ingest', 'lateness'],
  ['recovery'],
  ['api'],
  ['cli', 'bench'],
];

const SRC = dirname(fileURLToPath(import.meta.url));

/** The folder a file belongs to: its first folder under src/, or `stages/<stage>`. */
function folderOf(file: string): string {
  const parts = relative(SRC, file).split('/');
  if (parts.length === 1) return '.';
  return parts[0] === 'stages' && parts.length > 2 ? `stages/${parts[1]}` : (parts[0] ?? '.');
}

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

// Static imports, re-exports and `import('…')` alike; only relative specifiers name files of src/.
const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

interface Edge {
  readonly from: string;
  readonly to: string;
  /** `file -> imported file`, paths relative to src/. */
  readonly files: string[];
}

/** The imports between folders of src/, one edge per ordered pair of folders. */
function folderGraph(): Map<string, Edge> {
  const edges = new Map<string, Edge>();
  for (const file of sourceFiles(SRC)) {
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = normalize(join(dirname(file), match[1] ?? ''));
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from === to) continue;
      const key = `${from} -> ${to}`;
      const edge = edges.get(key) ?? { from, to, files: [] };
      edge.files.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
      edges.set(key, edge);
    }
  }
  return edges;
}

/** Circles of folders (strongly connected components of more than one folder), Tarjan's way. */
function circles(edges: Iterable<Edge>): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node) ?? 0);
    stack.push(node);
    for (const other of next.get(node) ?? []) {
      if (!index.has(other)) {
        visit(other);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(other) ?? 0));
      } else if (stack.includes(other)) low.set(node, Math.min(low.get(node) ?? 0, index.get(other) ?? 0));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    for (let top = stack.pop(); top !== undefined; top = top === node ? undefined : stack.pop()) component.push(top);
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of next.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('the import graph of src/', () => {
  const edges = [...folderGraph().values()];

  it('sees the imports it checks (the reading itself works)', () => {
    expect(edges.some((edge) => edge.from === 'cli' && edge.to === 'config')).toBe(true);
    expect(edges.some((edge) => edge.from === 'aggregates' && edge.to === 'kafka')).toBe(true);
  });

  it('has no circle across folders', () => {
    const described = circles(edges).map((circle) =>
      edges
        .filter((edge) => circle.includes(edge.from) && circle.includes(edge.to))
        .map((edge) => `${edge.from} -> ${edge.to}: ${edge.files.join(', ')}`)
        .join('\n'),
    );
    expect(described).toEqual([]);
  });

  it('places every folder on a floor, and no folder imports one on its own floor or above', () => {
    const floorOf = new Map(FLOORS.flatMap((folders, floor) => folders.map((folder) => [folder, floor] as const)));
    const unplaced = [...new Set(edges.flatMap((edge) => [edge.from, edge.to]))].filter(
      (folder) => !floorOf.has(folder),
    );
    expect(unplaced, 'folders missing from FLOORS (src/import-layers.test.ts and src/README.md)').toEqual([]);
    const upward = edges
      .filter((edge) => (floorOf.get(edge.to) ?? 0) >= (floorOf.get(edge.from) ?? 0))
      .map((edge) => `${edge.from} -> ${edge.to}: ${edge.files.join(', ')}`);
    expect(upward).toEqual([]);
  });
});
