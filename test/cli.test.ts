import { describe, expect, it } from 'vitest';
import { freePort } from '../src/stack/processes.js';
import { kappa, kappaAsync } from './support/cli.js';

/** The command line as users meet it: a separate process, real exit codes, real streams. */
describe('kappa executable', () => {
  it('exits 2 with one line naming the setting when KAPPA_KAFKA_BROKERS is blank', () => {
    const result = kappa(['status'], { KAPPA_KAFKA_BROKERS: ' ' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^kappa: invalid KAPPA_KAFKA_BROKERS=" " \(flag --brokers\): /);
  });

  it('exits 2 naming a misspelt KAPPA_ variable', () => {
    const result = kappa(['stack', 'status'], { KAPPA_STATE_DIRECTORY: '/tmp/x' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown setting KAPPA_STATE_DIRECTORY; did you mean KAPPA_STATE_DIR?');
  });

  it('exits 2 on a bad duration flag', () => {
    const result = kappa(['aggregate', '--version', 'v1', '--watermark', '15']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'invalid --watermark "15" (env KAPPA_WATERMARK): expected a positive duration with a unit',
    );
  });

  it('says plainly, with a code, that no broker answers (nothing listens on the port)', async () => {
    const port = await freePort();
    const result = await kappaAsync(['enrich'], { KAPPA_KAFKA_BROKERS: `127.0.0.1:${port}`, KAPPA_LOG_LEVEL: 'fatal' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^kappa: cannot reach Kafka: .*127\\.0\\.0\\.1:${port}.*\\[KAPPA_KAFKA_UNREACHABLE\\]\\n$`, 's'),
    );
    expect(result.stderr).not.toContain('unexpected error');
  });

  it('prints help for a sub-command and exits 0', () => {
    const result = kappa(['recover', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--until-caught-up');
  });
});
