import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { untilAborted } from '../../shared/abort.js';
import { StageSupervisor } from './supervisor.js';

/** A logger whose entries the test reads. */
function recordingLogger() {
  const entries: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void entries.push(JSON.parse(line) as Record<string, unknown>) },
  );
  return { logger, entries };
}

/** A stage that runs until its signal aborts, then ends as `end` says. */
function stage(end: () => unknown = () => undefined) {
  return async (signal: AbortSignal) => {
    await untilAborted(signal);
    return end();
  };
}

const NOT_FAILED = Symbol('not failed');

describe('StageSupervisor', () => {
  it('fails the run when a stage returns before it is asked to stop', async () => {
    const stages = new StageSupervisor({ logger: recordingLogger().logger });
    stages.start('enrich', stage());
    stages.start('ingest', () => Promise.resolve());
    await expect(stages.failed).rejects.toThrow('ingest stopped unexpectedly');
    await stages.stop();
  });

  it('fails the run with the error of a stage that throws', async () => {
    const stages = new StageSupervisor({ logger: recordingLogger().logger });
    stages.start('aggregate v1', () => Promise.reject(new Error('MySQL went away')));
    await expect(stages.failed).rejects.toThrow('MySQL went away');
    await stages.stop();
  });

  it('stop() aborts every stage and resolves once all have ended; their returns are no failure', async () => {
    const { logger, entries } = recordingLogger();
    const stages = new StageSupervisor({ logger });
    const ended: string[] = [];
    for (const name of ['enrich', 'aggregate v1', 'ingest'])
      stages.start(
        name,
        stage(() => ended.push(name)),
      );
    expect(stages.phase).toBe('running');
    await stages.stop();
    expect(stages.signal.aborted).toBe(true);
    expect(ended.sort()).toEqual(['aggregate v1', 'enrich', 'ingest']);
    expect(await Promise.race([stages.failed, Promise.resolve(NOT_FAILED)])).toBe(NOT_FAILED);
    expect(entries).toEqual([]);
  });

  it('logs a stage that throws while stopping, and does not fail the run', async () => {
    const { logger, entries } = recordingLogger();
    const stages = new StageSupervisor({ logger });
    stages.start(
      'enrich',
      stage(() => {
        throw new Error('abort failed');
      }),
    );
    await stages.stop();
    expect(await Promise.race([stages.failed, Promise.resolve(NOT_FAILED)])).toBe(NOT_FAILED);
    expect(entries).toMatchObject([
      { stage: 'enrich', msg: 'stage failed while stopping', err: { message: 'abort failed' } },
    ]);
  });

  it('with a stop grace, returns after it and names the stages still running', async () => {
    const { logger, entries } = recordingLogger();
    const stages = new StageSupervisor({ logger, stopGraceMs: 10 });
    stages.start('stuck', () => new Promise(() => undefined));
    stages.start('enrich', stage());
    await stages.stop();
    expect(entries).toMatchObject([
      { stages: ['stuck'], graceMs: 10, msg: 'stages still running after the stop grace' },
    ]);
  });

  it('stops the stages when the command is stopped (Ctrl-C)', async () => {
    const command = new AbortController();
    const stages = new StageSupervisor({ logger: recordingLogger().logger, signal: command.signal });
    let stopped = false;
    stages.start(
      'aggregate v2',
      stage(() => (stopped = true)),
    );
    command.abort();
    expect(stages.phase).toBe('stopping');
    await stages.stop();
    expect(stopped).toBe(true);
    expect(await Promise.race([stages.failed, Promise.resolve(NOT_FAILED)])).toBe(NOT_FAILED);
  });
});
