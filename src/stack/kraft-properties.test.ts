import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newClusterId, renderServerProperties } from './kraft-properties.js';

function parse(properties: string): Map<string, string> {
  return new Map(
    properties
      .trim()
      .split('\n')
      .map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as const;
      }),
  );
}

describe('renderServerProperties', () => {
  const properties = parse(
    renderServerProperties({ host: '127.0.0.1', port: 19092, controllerPort: 19093, dataDir: '/tmp/k/data' }),
  );

  it('describes one combined broker + controller on the given ports', () => {
    expect(properties.get('process.roles')).toBe('broker,controller');
    expect(properties.get('controller.quorum.voters')).toBe('1@127.0.0.1:19093');
    expect(properties.get('listeners')).toBe('PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093');
    expect(properties.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:19092');
    expect(properties.get('log.dirs')).toBe('/tmp/k/data');
  });

  it('sets the single-broker overrides without which transactions hang', () => {
    expect(properties.get('offsets.topic.replication.factor')).toBe('1');
    expect(properties.get('transaction.state.log.replication.factor')).toBe('1');
    expect(properties.get('transaction.state.log.min.isr')).toBe('1');
  });

  it('never creates topics by accident', () => {
    expect(properties.get('auto.create.topics.enable')).toBe('false');
  });

  it('declares every key once', () => {
    const keys = renderServerProperties({ host: 'h', port: 1, controllerPort: 2, dataDir: 'd' })
      .trim()
      .split('\n')
      .map((line) => line.split('=')[0]);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('newClusterId', () => {
  it('is 22 URL-safe base64 characters that never start with "-"', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { minLength: 1, maxLength: 5 }),
        (draws) => {
          // Feed the ids drawn in order; the last draw always starts with a safe byte so the loop ends.
          const queue = [...draws.map((bytes) => Buffer.from(bytes)), Buffer.alloc(16, 0)];
          const id = newClusterId(() => queue.shift() ?? Buffer.alloc(16, 0));
          expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
        },
      ),
    );
  });

  it('draws again when the id would start with "-"', () => {
    // 0xf8 → first base64url character "-".
    const draws = [Buffer.alloc(16, 0xf8), Buffer.alloc(16, 1)];
    expect(newClusterId(() => draws.shift() ?? Buffer.alloc(16))).toBe(Buffer.alloc(16, 1).toString('base64url'));
  });
});
