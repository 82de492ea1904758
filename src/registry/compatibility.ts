import type { AvroType } from './avro-schema.js';
import { resolutionProblems, type ResolutionProblem } from './resolution.js';

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

export const DEFAULT_COMPATIBILITY: CompatibilityLevel = 'BACKWARD';

export function isCompatibilityLevel(value: unknown): value is CompatibilityLevel {
  return typeof value === 'string' && (COMPATIBILITY_LEVELS as readonly string[]).includes(value);
}

export interface PreviousVersion {
  readonly version: number;
  readonly type: AvroType;
}

/** One reason a candidate schema breaks a level against one earlier version. */
export interface CompatibilityViolation extends ResolutionProblem {
  readonly version: number;
  /** `backward`: the new schema cannot read the old data; `forward`: the old schema cannot read the new data. */
  readonly direction: 'backward' | 'forward';
}

/**
 * Checks a candidate schema against the earlier versions of its subject (oldest first) under a
 * compatibility level (Confluent's semantics): BACKWARD — the candidate reads data written with
 * the latest version (…_TRANSITIVE: with every version); FORWARD — the latest (every) version reads
 * data written with the candidate; FULL — both. Empty when compatible.
 */
export function compatibilityViolations(
  level: CompatibilityLevel,
  candidate: AvroType,
  previous: readonly PreviousVersion[],
): readonly CompatibilityViolation[] {
  if (level === 'NONE' || previous.length === 0) return [];
  const against = level.endsWith('_TRANSITIVE') ? previous : previous.slice(-1);
  const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
  const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
  return against.flatMap(({ version, type }) => [
    ...(backward
      ? resolutionProblems(type, candidate).map((problem) => ({ ...problem, version, direction: 'backward' as const }))
      : []),
    ...(forward
      ? resolutionProblems(candidate, type).map((problem) => ({ ...problem, version, direction: 'forward' as const }))
      : []),
  ]);
}

/** One line per violation, as reported by the registry (409) and by `kappa schemas check`. */
export function describeViolation(violation: CompatibilityViolation): string {
  const who =
    violation.direction === 'backward'
      ? `cannot read data written with version ${violation.version}`
      : `version ${violation.version} cannot read its data`;
  return `${who}: field ${violation.path}: ${violation.reason}`;
}
