import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type { PinoPretty } from 'pino-pretty';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LogFormat = 'json' | 'pretty' | 'auto';

/**
 * Structured logs on stderr, so stdout stays for a command's own output (tables, JSON, URLs) and
 * both can be redirected separately. `auto` is readable lines on a terminal and JSON lines
 * everywhere else (files, pipes, CI, containers).
 */
/**
 * pino-pretty (and its dependencies) loaded on first use only: JSON logs — every stage's, every
 * command's in a pipe — do not pay for its start-up. `require`, because createLogger is synchronous.
 */
let prettyStream: typeof PinoPretty | undefined;
function prettyDestination(): ReturnType<typeof PinoPretty> {
  prettyStream ??= (createRequire(import.meta.url)('pino-pretty') as { PinoPretty: typeof PinoPretty }).PinoPretty;
  return prettyStream({ destination: 2, sync: true, ignore: 'pid,hostname,name', translateTime: 'HH:MM:ss.l' });
}

export function createLogger(level: LogLevel, name = 'kappa', format: LogFormat = 'auto'): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stderr.isTTY);
  const destination = pretty ? prettyDestination() : pino.destination({ fd: 2, sync: true });
  return pino({ name, level, base: { pid: process.pid } }, destination);
}

/** A logger that drops everything, for library callers and tests that do not care. */
export const silentLogger: Logger = pino({ level: 'silent' });
