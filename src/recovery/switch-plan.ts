/**
 * The one atomic switch of readers (SPEC §1.4), planned without I/O: the views readers query
 * (`events_users`, `events_depts`, `events_ages`) and the one-row pointer view the API reads
 * (`kappa_serving_version`) are all replaced by ONE `RENAME TABLE` statement — MySQL and MariaDB
 * apply a multi-table rename atomically, so no reader ever sees the views and the serving version
 * disagree.
 */
import { DIMENSIONS, jobNames, type Dimension } from '../aggregates/job-names.js';

/** The one-row view `SELECT 'vN' AS version`: which version serves, swapped with the views. */
export const SERVING_POINTER = 'kappa_serving_version';

/** The reader-facing views, one per dimension: `events_users` → the serving version's table. */
export function viewName(dim: Dimension): string {
  return jobNames('v1').table(dim).replace(/_v1$/, '');
}

/** Every name the switch manages: the dimension views and the pointer. */
export const MANAGED_NAMES: readonly string[] = [...DIMENSIONS.map(viewName), SERVING_POINTER];

export interface SwitchTarget {
  readonly version: string;
  readonly dims: readonly Dimension[];
}

export interface SwitchPlan {
  /** `CREATE OR REPLACE VIEW` statements of the `__next` views, run before the rename. */
  readonly create: readonly string[];
  /** The single `RENAME TABLE` statement that swaps every view at once. */
  readonly rename: string;
  /** Names left behind by the rename (`__old`), dropped afterwards (and before, if a crash left them). */
  readonly leftovers: readonly string[];
}

export type SwitchDecision =
  { readonly ok: true; readonly plan: SwitchPlan } | { readonly ok: false; readonly problem: string };

const quote = (name: string) => `\`${name}\``;

/**
 * What switching readers to `target` takes, given the managed names that exist now and their
 * `TABLE_TYPE` (`VIEW`, `BASE TABLE`). Refused when a real table holds a managed name, or when a
 * view exists for a dimension the target lacks: readers of that view would keep reading the old
 * version while the API says the new one serves.
 */
export function planSwitch(existing: ReadonlyMap<string, string>, target: SwitchTarget): SwitchDecision {
  for (const [name, type] of existing) {
    if (MANAGED_NAMES.includes(name) && type !== 'VIEW')
      return { ok: false, problem: `${name} is a table, not a view kappa manages; rename or drop it before a switch` };
  }
  const missing = DIMENSIONS.filter((dim) => existing.has(viewName(dim)) && !target.dims.includes(dim));
  if (missing.length > 0)
    return {
      ok: false,
      problem: `${target.version} has no ${missing.join(', ')} table${missing.length > 1 ? 's' : ''}, whose view${missing.length > 1 ? 's' : ''} (${missing.map(viewName).join(', ')}) readers query; recover a version with --dims ${DIMENSIONS.filter((dim) => target.dims.includes(dim) || missing.includes(dim)).join(',')}`,
    };
  const names = jobNames(target.version);
  const create: string[] = [];
  const renames: string[] = [];
  const leftovers: string[] = [];
  const swap = (name: string, definition: string) => {
    create.push(`CREATE OR REPLACE VIEW ${quote(`${name}__next`)} AS ${definition}`);
    if (existing.has(name)) {
      renames.push(`${quote(name)} TO ${quote(`${name}__old`)}`);
      leftovers.push(`${name}__old`);
    }
    renames.push(`${quote(`${name}__next`)} TO ${quote(name)}`);
  };
  for (const dim of DIMENSIONS.filter((entry) => target.dims.includes(entry)))
    swap(
      viewName(dim),
      `SELECT window_start, window_end, ${quote(names.column(dim))}, count, idle_closed FROM ${quote(names.table(dim))}`,
    );
  // jobNames accepted the name: `v` and digits only, safe as a literal.
  swap(SERVING_POINTER, `SELECT '${names.version}' AS version`);
  return { ok: true, plan: { create, rename: `RENAME TABLE ${renames.join(', ')}`, leftovers } };
}
