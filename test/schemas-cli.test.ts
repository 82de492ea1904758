import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningRegistry } from '../src/registry/server.js';
import { freePort } from '../src/stack/processes.js';
import { kappa, kappaAsync } from './support/cli.js';
import { useTestContext } from './support/context.js';
import { startTestRegistry } from './support/registry.js';

const context = useTestContext('schemas_cli');

describe('kappa schemas check (offline)', () => {
  it('passes on the shipped schemas/', () => {
    const result = kappa(['schemas', 'check']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      'events-value: v1..v2 BACKWARD compatible (events/)\nevents_stages-value: v1..v1 BACKWARD compatible (events_stages/)\n',
    );
  });

  it.each([
    [
      'schemas-type-change',
      /events-value v3 is not BACKWARD compatible: .*field dev\.kappa\.Event\.id: cannot read long as string/,
    ],
    [
      'schemas-removed-field',
      /events-value v2 is not FULL compatible: .*field dev\.kappa\.Event\.hello: the reader field has no default/,
    ],
    ['schemas-gap', /versions must run v1, v2, … without gaps/],
  ])('fails on the broken copy %s with exit 1 and a clear message', (name, message) => {
    const result = kappa(['schemas', 'check', '--schemas-dir', `test/fixtures/${name}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  it('names subjects after the configured topics', () => {
    const result = kappa(['schemas', 'check'], { KAPPA_TOPIC_EVENTS: 'prod.events' });
    expect(result.stdout).toContain('prod.events-value: v1..v2');
  });
});

describe('kappa schemas register (online)', () => {
  let registry: RunningRegistry;

  beforeAll(async () => {
    registry = await startTestRegistry(context);
  });
  afterAll(() => registry.close());

  it('registers every version in order, sets the level, and is idempotent', async () => {
    const env = { KAPPA_REGISTRY_URL: registry.url };
    const first = await kappaAsync(['schemas', 'register'], env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('events-value v1: id 1\nevents-value v2: id 2\nevents_stages-value v1: id 3\n');
    expect((await kappaAsync(['schemas', 'register'], env)).stdout).toBe(first.stdout);
    const config = await fetch(`${registry.url}/config/events-value`);
    expect(await config.json()).toEqual({ compatibilityLevel: 'BACKWARD' });
    expect(await (await fetch(`${registry.url}/subjects/events-value/versions`)).json()).toEqual([1, 2]);
  });

  it('refuses to register a history that fails the check', async () => {
    const result = await kappaAsync(['schemas', 'register', '--schemas-dir', 'test/fixtures/schemas-type-change'], {
      KAPPA_REGISTRY_URL: registry.url,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[KAPPA_SCHEMAS_INCOMPATIBLE]');
  });

  it('fails clearly when the registry is not there', async () => {
    const result = await kappaAsync(['schemas', 'register'], {
      KAPPA_REGISTRY_URL: `http://127.0.0.1:${await freePort()}`,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /registering .*v1\.avsc as events-value at http:\/\/127\.0\.0\.1:\d+ failed: .*\[KAPPA_SCHEMAS_REGISTER_FAILED\]/,
    );
  });
});
