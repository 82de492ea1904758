import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Whether `pid` is alive and, when /proc is there to ask, still runs a command line containing
 * `marker` — a pid file outliving its process must not make us signal whatever reused the pid.
 */
export function isProcessAlive(pid: number, marker?: string): boolean {
  // kill(0 or negative) addresses process groups, not a process: never a valid answer here.
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive but not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  if (marker === undefined) return true;
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // A zombie (exited, not yet reaped by its parent) has an empty command line.
    return commandLine.includes(marker);
  } catch {
    return process.platform !== 'linux';
  }
}

/** Polls until the process is gone; resolves false when the timeout passes first. */
export async function waitForExit(pid: number, timeoutMs: number, marker?: string): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isProcessAlive(pid, marker)) {
    if (Date.now() >= deadline) return false;
    await sleep(100);
  }
  return true;
}

/** True when nothing listens on host:port (we could bind it ourselves). */
export function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port that was free a moment ago (the OS picks it); for tests and throw-away brokers. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a process in its own session with its output appended to `logFile`: it outlives the
 * caller and never holds the caller's stdout/stderr open (which would keep a CI job waiting).
 */
export function spawnDetached(
  command: string,
  args: readonly string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): number | undefined {
  const log = openSync(logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log], env });
    child.on('error', () => undefined); // reported through the missing pid / the readiness check
    child.unref();
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** SIGTERM, then SIGKILL after `timeoutMs`; resolves false if the process survives even that. */
export async function terminate(pid: number, marker: string, timeoutMs: number, onKill?: () => void): Promise<boolean> {
  if (!isProcessAlive(pid, marker)) return true;
  process.kill(pid, 'SIGTERM');
  if (await waitForExit(pid, timeoutMs, marker)) return true;
  onKill?.();
  process.kill(pid, 'SIGKILL');
  return waitForExit(pid, 5_000, marker);
}

/** The last lines of a log file ('' when it does not exist). */
export async function tailFile(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
