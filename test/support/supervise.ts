import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanEnv, KAPPA_BIN } from './cli.js';

export interface Supervised {
  /** kill -9 the running process (the supervisor starts it again). */
  kill9(): void;
  /** How often it exited by itself or was killed and was started again. */
  restarts(): number;
  /** Every pid it ever ran, to check at the end that none is left. */
  pids(): readonly number[];
  /** SIGTERM (SIGKILL after 30 s), and no restart after. */
  stop(): Promise<void>;
}

/**
 * A stage kept running like a service manager would: restarted a second after it exits, until
 * stopped. Each exit is written to `events` (what the test prints when it fails); output goes to
 * `<KAPPA_STATE_DIR>/<label>.log`.
 */
export function supervise(
  args: readonly string[],
  env: Record<string, string>,
  label: string,
  events: string[],
): Supervised {
  let current: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  const pids: number[] = [];
  const start = () => {
    if (stopping) return;
    const log = openSync(join(env['KAPPA_STATE_DIR'] ?? '', `${label}.log`), 'a');
    current = spawn(process.execPath, [KAPPA_BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', log, log] });
    if (current.pid !== undefined) pids.push(current.pid);
    current.once('exit', (code, signal) => {
      if (stopping) return;
      events.push(`${label} exited (${signal ?? code ?? '?'}); restarting`);
      restarts += 1;
      setTimeout(start, 1_000);
    });
  };
  start();
  return {
    kill9: () => current?.kill('SIGKILL'),
    restarts: () => restarts,
    pids: () => pids,
    stop: async () => {
      stopping = true;
      if (current !== undefined && current.exitCode === null && current.signalCode === null) {
        const exited = new Promise((resolve) => current?.once('exit', resolve));
        current.kill('SIGTERM');
        await Promise.race([exited, sleep(30_000)]);
        if (current.exitCode === null && current.signalCode === null) current.kill('SIGKILL');
      }
    },
  };
}

/** `kappa <args>` to its end, as a process logging to `<KAPPA_STATE_DIR>/<label>.log`. */
export function runToEnd(
  args: readonly string[],
  env: Record<string, string>,
  label: string,
): { readonly child: ChildProcess; readonly done: Promise<number | null> } {
  const log = openSync(join(env['KAPPA_STATE_DIR'] ?? '', `${label}.log`), 'a');
  const child = spawn(process.execPath, [KAPPA_BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', log, log] });
  return { child, done: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

/** Whether a pid is still a running process (a zombie waiting to be reaped counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; Z is a zombie.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\)\s+Z\s/.test(stat);
  } catch {
    return true;
  }
}
