import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/**
 * The child's loop: one line on stdin (seconds, every ms) starts a series of GETs, one every
 * `every` ms for `seconds`; its answer is one line on stdout, each request's milliseconds as JSON.
 * The first fetch of a process loads and compiles undici (seconds on a loaded machine): the child
 * makes it, untimed, before it says `ready`.
 */
const SCRIPT = `
  import { createInterface } from 'node:readline';
  const url = process.argv[1];
  await (await fetch(url)).text();
  process.stdout.write('ready\\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const [seconds, every] = line.split(' ').map(Number);
    const end = Date.now() + seconds * 1000;
    const times = [];
    while (Date.now() < end) {
      const started = performance.now();
      const response = await fetch(url);
      await response.text();
      if (!response.ok) throw new Error(url + ' answered ' + response.status);
      times.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, every));
    }
    process.stdout.write(JSON.stringify(times) + '\\n');
  }`;

/**
 * GETs `url` from a process of its own, as Prometheus scrapes from its own: in the bench's process
 * the timings would include the event-loop delays of the load generator running there. The process
 * starts once, before any load, and is warm when asked: a process started for each series would put
 * its own start-up (Node's, undici's compilation) into the very load rounds the scrapes run beside.
 */
export class MetricsScraper {
  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly lines: Interface,
    private readonly exited: Promise<unknown[]>,
  ) {}

  static async start(url: string): Promise<MetricsScraper> {
    const child = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, url], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const scraper = new MetricsScraper(child, createInterface({ input: child.stdout }), once(child, 'exit'));
    const ready = await scraper.nextLine();
    if (ready !== 'ready') throw new Error(`the /metrics scraper said ${JSON.stringify(ready)} instead of ready`);
    return scraper;
  }

  /** Each request's milliseconds over `seconds`, one GET every `everyMs`. */
  async scrape(seconds: number, everyMs = 50): Promise<number[]> {
    this.child.stdin.write(`${seconds} ${everyMs}\n`);
    return JSON.parse(await this.nextLine()) as number[];
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }

  private async nextLine(): Promise<string> {
    const line = await Promise.race([
      once(this.lines, 'line') as Promise<[string]>,
      this.exited.then(([code]) => {
        throw new Error(`the /metrics scraper exited ${String(code)}`);
      }),
    ]);
    return line[0];
  }
}
