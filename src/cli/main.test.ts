import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTINGS } from '../config/settings.js';
import { COMMANDS } from './commands/index.js';
import { main } from './main.js';

async function run(argv: readonly string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), env });
  return { code, stdout, stderr };
}

const SPEC_COMMANDS = [
  'up',
  'stack up',
  'stack down',
  'stack status',
  'ingest',
  'enrich',
  'aggregate',
  'recover',
  'cutover',
  'rollback',
  'diff',
  'explain',
  'verify',
  'serve',
  'schemas check',
  'schemas register',
  'status',
  'lateness',
  'registry',
];

describe('kappa command line', () => {
  it('wires every command of the SPEC §2.1 contract', () => {
    expect(COMMANDS.map((command) => command.name).sort()).toEqual([...SPEC_COMMANDS].sort());
  });

  it('prints help and exits 0', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const name of [
      'up',
      'stack',
      'ingest',
      'enrich',
      'aggregate',
      'recover',
      'cutover',
      'rollback',
      'diff',
      'serve',
      'schemas',
      'status',
    ]) {
      expect(stdout).toMatch(new RegExp(`^  ${name}\\b`, 'm'));
    }
  });

  for (const command of COMMANDS) {
    it(`kappa ${command.name} --help lists its flags with their environment variables`, async () => {
      const { code, stdout } = await run([...command.name.split(' '), '--help']);
      expect(code).toBe(0);
      for (const key of [...command.settings, 'logLevel' as const, 'logFormat' as const]) {
        // A secret read from the environment only (the SASL password) has no flag to list.
        if ((SETTINGS[key] as { envOnly?: boolean }).envOnly === true) continue;
        expect(stdout).toContain(SETTINGS[key].flag);
        expect(stdout.replace(/\s+/g, ' ')).toContain(`env ${SETTINGS[key].env}`);
      }
      for (const option of command.options ?? []) expect(stdout).toContain(option.flag);
    });
  }

  it('kappa up, aggregate and recover all take --dims (gender included): one definition of a version', async () => {
    for (const command of ['up', 'aggregate', 'recover']) {
      const { stdout } = await run([command, '--help']);
      expect(stdout.replace(/\s+/g, ' ')).toContain(
        '--dims <list> Dimensions a job version aggregates, each a table (user, dept, age, gender)',
      );
    }
    const { code, stderr } = await run(['aggregate', '--dims', 'user,city']);
    expect(code).toBe(2);
    expect(stderr).toContain('expected a comma-separated list of user, dept, age, gender; got city');
  });

  it('exits 2 with one line naming the setting on a bad environment variable', async () => {
    const { code, stdout, stderr } = await run(['status'], { KAPPA_KAFKA_BROKERS: ' ' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([
      'kappa: invalid KAPPA_KAFKA_BROKERS=" " (flag --brokers): is empty; expected a comma-separated list of host:port, e.g. 127.0.0.1:9092',
    ]);
  });

  it('exits 2 on a bad flag value, naming the flag', async () => {
    const { code, stderr } = await run(['stack', 'up', '--kafka-port', 'x']);
    expect(code).toBe(2);
    expect(stderr).toContain('kappa: invalid --kafka-port "x" (env KAPPA_STACK_KAFKA_PORT)');
  });

  it('exits 2 on usage mistakes', async () => {
    expect((await run(['bogus'])).code).toBe(2);
    expect((await run(['status', '--no-such-flag'])).code).toBe(2);
    expect((await run(['diff', 'v1'])).code).toBe(2);
    expect((await run(['stack'])).code).toBe(2);
  });

  it('reports a stopped local broker with exit 3', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'kappa-cli-'));
    const { code, stdout } = await run(['stack', 'status', '--state-dir', stateDir]);
    expect(code).toBe(3);
    expect(stdout).toBe('kafka: stopped\nschema registry: stopped\n');
    const json = await run(['stack', 'status', '--json'], { KAPPA_STATE_DIR: stateDir });
    expect(JSON.parse(json.stdout)).toEqual({
      kafka: { running: false, reachable: false },
      registry: { running: false, reachable: false },
    });
  });
});

describe('secrets on the command line (issue 22)', () => {
  it.each([
    ['serve', '--api-token', 'KAPPA_API_TOKEN', '--api-token-file'],
    ['up', '--ingest-token', 'KAPPA_INGEST_TOKEN', '--ingest-token-file'],
    ['registry', '--registry-token', 'KAPPA_REGISTRY_TOKEN', '--registry-token-file'],
  ])(
    '%s %s <token> is refused (argv shows in ps), naming the variable and the file flag',
    async (command, flag, env, file) => {
      const { code, stderr } = await run([command, flag, 'secret-token-0123456789']);
      expect(code).toBe(2);
      expect(stderr).toContain(flag);
      expect(stderr).toContain(env);
      expect(stderr).toContain(file);
      expect(stderr).not.toContain('secret-token-0123456789');
    },
  );

  it('kappa registry refuses to listen beyond loopback without a registry token (exit 2)', async () => {
    const { code, stderr } = await run(['registry', '--registry-host', '0.0.0.0', '--brokers', '127.0.0.1:1']);
    expect(code).toBe(2);
    expect(stderr).toContain('KAPPA_REGISTRY_TOKEN');
    expect(stderr).toContain('0.0.0.0');
  });

  it('masks the password of a URL in a configuration error', async () => {
    const { code, stderr } = await run(['status'], { KAPPA_MYSQL_URL: 'mysql://root:S3cret@127.0.0.1:3306' });
    expect(code).toBe(2);
    expect(stderr).toContain('mysql://root:***@127.0.0.1:3306');
    expect(stderr).not.toContain('S3cret');
  });

  it('masks the password of a URL in any error message it prints', async () => {
    const { stderr } = await run(['status', '--brokers', '127.0.0.1:1'], {
      KAPPA_MYSQL_URL: 'mysql://root:S3cret@127.0.0.1:1/kappa',
    });
    expect(stderr).not.toContain('S3cret');
  });
});
