import { RequestError } from '../request-error.js';

/** `from` and `to` of a query as dates; a 400 naming `from` when it is after `to`. */
export function timeRange(from: string | undefined, to: string | undefined): { start?: Date; end?: Date } {
  const start = from === undefined ? undefined : new Date(from);
  const end = to === undefined ? undefined : new Date(to);
  if (start !== undefined && end !== undefined && start.getTime() > end.getTime())
    throw new RequestError('KAPPA_BAD_REQUEST', 'from must not be after to', 'from');
  return { ...(start === undefined ? {} : { start }), ...(end === undefined ? {} : { end }) };
}
