import type { Logger } from './logger.js';

/**
 * A progress line for long-running commands: rewritten in place on a terminal (stderr), a
 * structured log line every few seconds otherwise (files, CI, containers).
 */
export class Progress {
  private lastLog = 0;
  private shown = false;

  constructor(
    private readonly logger: Logger,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly logEveryMs = 5_000,
  ) {}

  update(fields: Readonly<Record<string, number | string>>, line: string): void {
    if (this.stream.isTTY) {
      this.stream.write(`\r\u001b[2K${this.label}: ${line}`);
      this.shown = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastLog >= this.logEveryMs) {
      this.lastLog = now;
      this.logger.info(fields, `${this.label}: ${line}`);
    }
  }

  /** Ends the in-place line so later output starts on a fresh one. */
  done(): void {
    if (this.shown) this.stream.write('\n');
    this.shown = false;
  }
}

const number = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function formatCount(value: number): string {
  return number.format(value);
}
