import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isProcessAlive, freePort } from '../src/stack/processes.js';
import { cleanEnv, KAPPA_BIN, kappaAsync } from './support/cli.js';
import { useTestContext } from './support/context.js';
import { logEntry } from './support/logs.js';

const context = useTestContext('up');

/** The `npx kappa …` lines of the README's quick start, in order (a trailing `&`: in the background). */
function readmeStory(): { args: string[]; background: boolean }[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('Then try the recovery story');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start))?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.startsWith('npx kappa '))
    .map((line) => ({
      args: line
        .replace(/^npx kappa /, '')
        .replace(/&$/, '')
        .trim()
        .split(/\s+/),
      background: line.endsWith('&'),
    }));
}

describe('kappa up on a machine with nothing running', () => {
  it(
    'starts the local stack and the whole pipeline, shows data on the dashboard API, and Ctrl-C leaves nothing behind',
    { timeout: 300_000 },
    async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'kappa-up-'));
      const [kafkaPort, controllerPort, registryPort, apiPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const env = {
        KAPPA_STATE_DIR: stateDir,
        KAPPA_STACK_KAFKA_PORT: String(kafkaPort),
        KAPPA_STACK_CONTROLLER_PORT: String(controllerPort),
        KAPPA_KAFKA_BROKERS: `127.0.0.1:${kafkaPort}`,
        KAPPA_REGISTRY_PORT: String(registryPort),
        KAPPA_REGISTRY_URL: `http://127.0.0.1:${registryPort}`,
        KAPPA_API_PORT: String(apiPort),
        KAPPA_MYSQL_URL: context.mysqlUrl,
        // Short windows so rows appear within seconds.
        KAPPA_WINDOW: '2s',
        KAPPA_SLIDE: '2s',
        KAPPA_WATERMARK: '2s',
        KAPPA_LOG_LEVEL: 'info',
        // Enrichment settings kappa up must hand its enrichment stage (it once ignored them).
        KAPPA_ENRICH_TRANSACTION_MS: '7s',
        KAPPA_ENRICH_TRANSACTION_RECORDS: '4321',
      };
      const log = join(stateDir, 'up.log');
      const child = spawn(process.execPath, [KAPPA_BIN, 'up', '--rate', '200'], {
        env: cleanEnv(env),
        stdio: ['ignore', openSync(log, 'a'), openSync(log, 'a')],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      let exitCode: number | null = null;
      try {
        const api = `http://127.0.0.1:${apiPort}`;
        // v1 serves and has rows within a minute (the jars are cached by the test run's broker).
        let rows = 0;
        for (let attempt = 0; attempt < 240 && rows === 0; attempt += 1) {
          await sleep(500);
          const response = await fetch(`${api}/api/windows/users`).catch(() => undefined);
          if (response?.ok === true) rows = ((await response.json()) as { rows: unknown[] }).rows.length;
          if (child.exitCode !== null) break;
        }
        expect(rows, readFileSync(log, 'utf8').slice(-3_000)).toBeGreaterThan(0);
        expect(readFileSync(log, 'utf8')).toContain(`kappa is up: dashboard ${api}/`);
        const versions = (await (await fetch(`${api}/api/versions`)).json()) as {
          versions: { version: string; serving: boolean }[];
        };
        expect(versions.versions).toEqual([expect.objectContaining({ version: 'v1', serving: true })]);
        expect((await fetch(`${api}/`)).status).toBe(200);
        // The enrichment runs with the settings given, not its defaults (it logs them at start).
        expect(logEntry(readFileSync(log, 'utf8'), 'enrichment running')).toMatchObject({
          badRecords: 'dead-letter',
          transactions: { maxMs: 7_000, maxRecords: 4_321 },
        });

        // The README's recovery story, exactly as printed, against this live kappa up.
        const story = readmeStory();
        expect(story.map((command) => command.args[0])).toEqual([
          'status',
          'recover',
          'recover',
          'status',
          'diff',
          'rollback',
        ]);
        let recovering: ChildProcess | undefined;
        try {
          for (const [index, command] of story.entries()) {
            if (command.background) {
              recovering = spawn(process.execPath, [KAPPA_BIN, ...command.args], {
                env: cleanEnv(env),
                stdio: [
                  'ignore',
                  openSync(join(stateDir, 'recover.log'), 'a'),
                  openSync(join(stateDir, 'recover.log'), 'a'),
                ],
              });
              continue;
            }
            // `status` after the recover: poll until v2 serves (it cuts over the moment it has caught up).
            const waitForServing = command.args[0] === 'status' && index > 0;
            for (let attempt = 0; ; attempt += 1) {
              const result = await kappaAsync(command.args, env, 120_000);
              expect(result.code, `kappa ${command.args.join(' ')}\n${result.stderr}`).toBe(0);
              if (index === 0) expect(result.stdout).toMatch(/\*v1 +serving/);
              if (command.args.includes('--plan')) expect(result.stdout).toMatch(/plan for v2 \(nothing changed\)/);
              if (command.args[0] === 'diff') expect(result.stdout).not.toMatch(/\(-/);
              if (command.args[0] === 'rollback') expect(result.stdout).toContain('readers now see v1 (was v2)');
              if (!waitForServing || /\*v2 +serving/.test(result.stdout)) break;
              expect(
                attempt,
                `v2 never served:\n${readFileSync(join(stateDir, 'recover.log'), 'utf8').slice(-2_000)}`,
              ).toBeLessThan(240);
              await sleep(1_000);
            }
          }
          const after = (await (await fetch(`${api}/api/versions`)).json()) as {
            versions: { version: string; serving: boolean; state: string }[];
          };
          expect(after.versions.map((entry) => [entry.version, entry.serving])).toEqual([
            ['v1', true],
            ['v2', false],
          ]);
          expect(
            ((await (await fetch(`${api}/api/windows/users?limit=1`)).json()) as { version: string }).version,
          ).toBe('v1');
        } finally {
          recovering?.kill('SIGINT');
          if (recovering !== undefined && recovering.exitCode === null)
            await new Promise((resolve) => recovering?.once('exit', resolve));
        }
      } finally {
        const brokerPid = (JSON.parse(readFileSync(join(stateDir, 'kafka', 'broker.json'), 'utf8')) as { pid: number })
          .pid;
        const registryState = join(stateDir, 'registry', 'registry.json');
        const registryPid = existsSync(registryState)
          ? (JSON.parse(readFileSync(registryState, 'utf8')) as { pid: number }).pid
          : undefined;
        child.kill('SIGINT');
        // Asserted after the checks above (an assertion here would hide their failure).
        exitCode = await exited;
        // Ctrl-C stopped the broker and the registry it started: no process left behind.
        // (Checked by command line: an exited child whose reaper is slow is not a process left behind.)
        expect(isProcessAlive(brokerPid, 'kafka.Kafka')).toBe(false);
        if (registryPid !== undefined) expect(isProcessAlive(registryPid, 'kappa.js\u0000registry')).toBe(false);
      }
      expect(exitCode).toBe(0);
    },
  );
});
