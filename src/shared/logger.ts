import { createRequire } from 'node:module';
import { pino, type Logger, type LoggerOptions } from 'pino';
import type { PinoPretty } from 'pino-pretty';
import { maskDeep, maskSecrets } from './secrets.js';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type LogFormat = 'json' | 'pretty' | 'auto';

/**
 * No log line shows a secret: passwords in URLs and bearer tokens are masked in the message, in
 * every field (fields named like secrets — token, password, authorization — are blanked) and in
 * errors' messages and stacks (a driver's error may quote the URL it was given).
 */
export const MASKING: Pick<LoggerOptions, 'formatters' | 'hooks' | 'serializers'> = {
  formatters: { log: (object) => maskDeep(object) as Record<string, unknown> },
  hooks: {
    logMethod(args, method) {
      method.apply(
        this,
        args.map((arg) => (typeof arg === 'string' ? maskSecrets(arg) : arg)) as Parameters<typeof method>,
      );
    },
  },
  serializers: {
    err: (error: Error) => maskDeep(pino.stdSerializers.err(error)) as ReturnType<typeof pino.stdSerializers.err>,
  },
};

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
  return pino({ name, level, base: { pid: process.pid }, ...MASKING }, destination);
}

/** A logger that drops everything, for library callers and tests that do not care. */
export const silentLogger: Logger = pino({ level: 'silent' });
