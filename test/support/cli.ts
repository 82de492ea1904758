import { spawn, spawnSync } from 'node:child_process';
import { expect } from 'vitest';
import type { VersionStatus } from '../../src/recovery/operations.js';
import { KAPPA_BIN } from '../../src/shared/kappa-bin.js';

/**
 * The `kappa` the tests run: the sources as they are now (bin/dev/kappa.js, through tsx), never a
 * dist/ built before the last edit. test/compiled-cli.test.ts builds and runs the compiled CLI.
 */
export { KAPPA_BIN };

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment minus every KAPPA_* variable, so a test sees only the settings it passes. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('KAPPA_')) env[name] = value;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** Runs the real `kappa` executable (from the sources, see KAPPA_BIN) as a separate process. */
export function kappa(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 120_000,
): CliResult {
  const result = spawnSync(process.execPath, [KAPPA_BIN, ...args], {
    env: cleanEnv(env),
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Like `kappa`, without blocking the test's event loop — needed whenever the command talks to a
 * server running inside the test process (spawnSync would deadlock it). After `timeoutMs` the
 * command gets `killSignal`: SIGTERM lets it stop cleanly (and exit 0, as on Ctrl-C); SIGKILL makes
 * a command that did not end by itself show as killed (code null).
 */
export function kappaAsync(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  timeoutMs = 120_000,
  killSignal: NodeJS.Signals = 'SIGTERM',
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KAPPA_BIN, ...args], { env: cleanEnv(env), timeout: timeoutMs, killSignal });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `kappaAsync` that must succeed: the test fails with the command's output otherwise; returns stdout. */
export async function kappaOk(
  args: readonly string[],
  env: Record<string, string | undefined>,
  timeoutMs = 240_000,
): Promise<string> {
  const result = await kappaAsync(args, env, timeoutMs);
  expect(result.code, `kappa ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

/** `kappa status --json`, by version. */
export async function versionStatuses(env: Record<string, string | undefined>): Promise<Map<string, VersionStatus>> {
  const statuses = JSON.parse(await kappaOk(['status', '--json'], env)) as VersionStatus[];
  return new Map(statuses.map((entry) => [entry.version, entry]));
}
