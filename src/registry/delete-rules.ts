import { RegistryError } from './registry-errors.js';
import type { SchemaVersion } from './registry-state.js';

/**
 * Confluent's rules for deleting a subject: a soft delete needs a live version (else 40404 when
 * all are soft-deleted, 40401 when there are none), a permanent one needs every version
 * soft-deleted first (40405). Undefined when the delete may go ahead.
 */
export function subjectDeleteProblem(
  subject: string,
  versions: readonly SchemaVersion[],
  permanent: boolean,
): RegistryError | undefined {
  if (versions.length === 0) return new RegistryError('SUBJECT_NOT_FOUND', `Subject '${subject}' not found.`);
  const live = versions.some((entry) => !entry.deleted);
  if (!permanent && !live)
    return new RegistryError(
      'SUBJECT_SOFT_DELETED',
      `Subject '${subject}' was soft deleted. Set permanent=true to delete permanently`,
    );
  if (permanent && live)
    return new RegistryError(
      'SUBJECT_NOT_SOFT_DELETED',
      `Subject '${subject}' was not deleted first before being permanently deleted`,
    );
  return undefined;
}

/**
 * The version a delete of `version` applies to, by Confluent's rules: `latest` is the newest live
 * version for a soft delete, the newest of all for a permanent one; deleting a soft-deleted
 * version softly again is 40406, a live one permanently 40407.
 */
export function versionToDelete(
  subject: string,
  versions: readonly SchemaVersion[],
  version: number | 'latest',
  permanent: boolean,
): SchemaVersion {
  if (versions.length === 0) throw new RegistryError('SUBJECT_NOT_FOUND', `Subject '${subject}' not found.`);
  const live = versions.filter((entry) => !entry.deleted);
  const target =
    version !== 'latest'
      ? versions.find((entry) => entry.version === version)
      : permanent || live.length === 0
        ? versions.at(-1)
        : live.at(-1);
  if (target === undefined) throw new RegistryError('VERSION_NOT_FOUND', `Version ${version} not found.`);
  if (!permanent && target.deleted)
    throw new RegistryError(
      'VERSION_SOFT_DELETED',
      `Subject '${subject}' Version ${target.version} was soft deleted. Set permanent=true to delete permanently`,
    );
  if (permanent && !target.deleted)
    throw new RegistryError(
      'VERSION_NOT_SOFT_DELETED',
      `Subject '${subject}' Version ${target.version} was not deleted first before being permanently deleted`,
    );
  return target;
}
