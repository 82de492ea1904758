import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const PROMETHEUS = '/usr/bin/prometheus';

function run(command: string, args: readonly string[], logFd: number, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', logFd, logFd],
      timeout: timeoutMs,
    });
    child.on('error', () => resolve(null));
    child.on('close', resolve);
  });
}

/**
 * Debian's prometheus for the Prometheus test, installed with apt when missing and running as root
 * (as test/support/chromium.ts does for Chromium); waits for the dpkg lock, another test may be
 * installing a package at the same moment. Returns why it is unavailable, or undefined.
 */
export async function ensurePrometheus(): Promise<string | undefined> {
  if (existsSync(PROMETHEUS)) return undefined;
  if (process.getuid?.() !== 0) return `${PROMETHEUS} is missing; install it: apt-get install prometheus`;
  const log = join(tmpdir(), `kappa-prometheus-apt-${process.pid}.log`);
  const fd = openSync(log, 'a');
  try {
    const apt = (args: readonly string[]) => run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], fd, 600_000);
    const install = ['install', '-y', '--no-install-recommends', 'prometheus'];
    if ((await apt(install)) !== 0) {
      await apt(['update']);
      await apt(install);
    }
  } finally {
    closeSync(fd);
  }
  return existsSync(PROMETHEUS) ? undefined : `apt-get install prometheus did not provide ${PROMETHEUS} (see ${log})`;
}

export interface RunningPrometheus {
  readonly url: string;
  /** Prometheus's own output. */
  readonly log: string;
  /** An instant query through the HTTP API: the result vector. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

/** Prometheus on `port`, scraping `target` (host:port) every 2 s, data and log in a scratch directory. */
export async function startPrometheus(port: number, target: string): Promise<RunningPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'kappa-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      // The first scrape waits for the first Kafka/MySQL refresh: give it time on a busy machine.
      '  scrape_interval: 2s',
      '  scrape_timeout: 2s',
      '  evaluation_interval: 2s',
      'scrape_configs:',
      '  - job_name: kappa',
      '    metrics_path: /metrics',
      '    static_configs:',
      `      - targets: ["${target}"]`,
      '',
    ].join('\n'),
  );
  const log = join(dir, 'prometheus.log');
  const fd = openSync(log, 'a');
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
    ],
    { stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  for (let attempt = 0; ; attempt += 1) {
    const ready = await fetch(`${url}/-/ready`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ready) break;
    if (child.exitCode !== null || attempt > 300) {
      await stop();
      throw new Error(`prometheus did not become ready on ${url}; see ${log}`);
    }
    await sleep(200);
  }
  return {
    url,
    log,
    stop,
    async query(expr) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== 'success') throw new Error(`prometheus refused ${expr}: ${body.error ?? response.status}`);
      return body.data?.result ?? [];
    },
  };
}
