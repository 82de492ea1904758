import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median } from './report.js';

/** The compiled CLI (`npm run bench` builds dist/ first): what users run, not the sources through tsx. */
const KAPPA_BIN = fileURLToPath(new URL('../../bin/kappa.js', import.meta.url));

/** Linux's clock ticks per second (`getconf CLK_TCK`: 100 on every common kernel). */
const CLOCK_TICKS = 100;

/**
 * CPU seconds used by this process's children that have been waited for (user + system), from
 * /proc/self/stat (`cutime`, `cstime`); NaN off Linux. A child's CPU is the difference around it.
 */
function childrenCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces), counted from field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

export interface StartTiming {
  /** Median wall seconds from spawn to exit. */
  readonly wallSeconds: number;
  /** Median CPU seconds (user + system): steadier than wall time on a shared machine. */
  readonly cpuSeconds: number;
}

/** Runs `args` with node once: wall and CPU seconds; a command that fails is an error. */
function timeOnce(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ wall: number; cpu: number }> {
  return new Promise((resolve, reject) => {
    const cpuBefore = childrenCpuSeconds();
    const started = performance.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wall = (performance.now() - started) / 1_000;
      if (code !== 0) {
        reject(new Error(`node ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
        return;
      }
      resolve({ wall, cpu: childrenCpuSeconds() - cpuBefore });
    });
  });
}

/**
 * The compiled CLI's start-up, whole process from spawn to exit: `kappa --help` (loads the command
 * line and the settings, prints) and `kappa status` (also kafkajs and mysql2: reads the catalog of
 * an empty database and the broker's offsets), beside `node -e 0`, Node's own start-up, the floor of
 * any command. The three run in turn, `runs` times, after one warm-up round; medians.
 */
export async function benchCli(options: {
  readonly brokers: readonly string[];
  readonly mysqlUrl: string;
  readonly runs: number;
}): Promise<{ node: StartTiming; help: StartTiming; status: StartTiming }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KAPPA_KAFKA_BROKERS: options.brokers.join(','),
    KAPPA_MYSQL_URL: options.mysqlUrl,
    KAPPA_LOG_LEVEL: 'warn',
  };
  const commands = {
    node: ['-e', '0'],
    help: [KAPPA_BIN, '--help'],
    status: [KAPPA_BIN, 'status'],
  } as const;
  type Sample = { wall: number; cpu: number };
  const samples: Record<keyof typeof commands, Sample[]> = { node: [], help: [], status: [] };
  for (let round = 0; round <= options.runs; round += 1)
    for (const name of ['node', 'help', 'status'] as const) {
      const sample = await timeOnce(commands[name], env);
      if (round > 0) samples[name].push(sample);
    }
  const summary = (list: readonly Sample[]): StartTiming => ({
    wallSeconds: median(list.map((sample) => sample.wall)),
    cpuSeconds: median(list.map((sample) => sample.cpu)),
  });
  return { node: summary(samples.node), help: summary(samples.help), status: summary(samples.status) };
}
