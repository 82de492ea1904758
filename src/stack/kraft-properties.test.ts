import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { internalReplication, newClusterId, renderServerProperties } from './kraft-properties.js';

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

describe('renderServerProperties for a node of a cluster', () => {
  const voters = ['1@127.0.0.1:1', '2@127.0.0.1:2', '3@127.0.0.1:3'];
  const properties = parse(
    renderServerProperties({
      host: '127.0.0.1',
      port: 9,
      controllerPort: 2,
      dataDir: 'd',
      nodeId: 2,
      voters,
      brokers: 3,
    }),
  );

  it('names the node and every voter of the quorum', () => {
    expect(properties.get('node.id')).toBe('2');
    expect(properties.get('controller.quorum.voters')).toBe(voters.join(','));
  });

  it('replicates the offsets and transaction-state topics three times, two in sync', () => {
    expect(properties.get('offsets.topic.replication.factor')).toBe('3');
    expect(properties.get('transaction.state.log.replication.factor')).toBe('3');
    expect(properties.get('transaction.state.log.min.isr')).toBe('2');
  });

  it('applies overrides in place of the defaults, each key once', () => {
    const text = renderServerProperties({
      host: 'h',
      port: 1,
      controllerPort: 2,
      dataDir: 'd',
      overrides: { listeners: 'SASL_SSL://h:1,CONTROLLER://h:2', 'ssl.keystore.type': 'PKCS12' },
    });
    const keys = text
      .trim()
      .split('\n')
      .map((line) => line.split('=')[0]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(parse(text).get('listeners')).toBe('SASL_SSL://h:1,CONTROLLER://h:2');
    expect(parse(text).get('ssl.keystore.type')).toBe('PKCS12');
  });
});

describe('internalReplication', () => {
  it('follows the broker count up to three, keeping one broker spare from three on', () => {
    expect(internalReplication(1)).toEqual({ factor: 1, minIsr: 1 });
    expect(internalReplication(2)).toEqual({ factor: 2, minIsr: 1 });
    expect(internalReplication(3)).toEqual({ factor: 3, minIsr: 2 });
    expect(internalReplication(5)).toEqual({ factor: 3, minIsr: 2 });
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
