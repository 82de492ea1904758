import type { AggregateSink } from './sink.js';

/**
 * Called after each commit that wrote rows, before the commit returns. It must not throw: it is
 * not part of the commit (what it does is retried with the next commit's rows, if at all).
 */
export type AfterRowsCommitted = () => Promise<void>;

/**
 * `sink`, telling `after` of each commit that wrote rows. The aggregator does not know what is done
 * then: the serving decision of SPEC §1.4 (the first version to commit rows serves) is recovery's
 * (recovery/serving-pointer.ts `serveFirstToCommit`), handed in by whoever composes the job.
 */
export function observeCommits(sink: AggregateSink, after: AfterRowsCommitted | undefined): AggregateSink {
  if (after === undefined) return sink;
  return {
    prepare: (spec) => sink.prepare(spec),
    load: (partition) => sink.load(partition),
    commit: async (request) => {
      const committed = await sink.commit(request);
      if (committed && request.rows.length > 0) await after();
      return committed;
    },
    close: () => sink.close(),
  };
}
