import { z } from 'zod';
import { DIMENSIONS, isJobVersion, type Dimension } from '../aggregates/job-names.js';

/** `v` + digits: names a job version's consumer group and tables. */
export const versionName = z.string().refine(isJobVersion, 'expected v followed by digits, e.g. v1');

/** `user,dept,age` → the dimensions, each once. */
export const dimensionList = z.string().transform((text, ctx) => {
  const dims = text.split(',').map((dim) => dim.trim());
  const unknown = dims.filter((dim) => !(DIMENSIONS as readonly string[]).includes(dim));
  if (unknown.length > 0 || dims.length === 0) {
    ctx.addIssue({ code: 'custom', message: `expected a comma-separated list of ${DIMENSIONS.join(', ')}` });
    return z.NEVER;
  }
  return [...new Set(dims)] as Dimension[];
});
