import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startRegistry, type RunningRegistry } from '../../src/registry/server.js';
import type { TestContext } from './context.js';

/** A schema registry on the run's broker, its schemas in this test file's own topic. */
export function startTestRegistry(context: TestContext, topic = context.topic('_schemas')): Promise<RunningRegistry> {
  return startRegistry({
    brokers: context.brokers,
    topic,
    // 1 on the shared broker; 3 on a cluster a test starts, whose brokers it may kill.
    replicationFactor: 'auto',
    host: '127.0.0.1',
    port: 0,
    logger: context.logger,
  });
}

/**
 * For files that run stages as processes against an in-process registry: the registry lives for
 * the file, and every process a test tracked is killed after it (even when the test failed).
 */
export function useRegistryAndProcesses(context: TestContext) {
  let registry: RunningRegistry | undefined;
  const running: ChildProcess[] = [];
  beforeAll(async () => {
    registry = await startTestRegistry(context);
  });
  afterEach(() => {
    for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  });
  afterAll(() => registry?.close());
  return {
    registryUrl: (): string => {
      if (registry === undefined) throw new Error('the registry starts in beforeAll');
      return registry.url;
    },
    track: (child: ChildProcess): ChildProcess => {
      running.push(child);
      return child;
    },
  };
}
