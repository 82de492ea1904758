import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { delayProblem } from '../shared/three-digits.js';
import { parseDuration } from './duration.js';

/**
 * Zod schemas that turn the text of a flag, environment variable or default into a typed value.
 * Each problem message says what to type instead; the loader prefixes it with the setting's name.
 */

type TextSchema<T> = z.ZodType<T, string>;

function fail(ctx: z.RefinementCtx, message: string): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

function parsePortText(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65_535 ? port : undefined;
}

export const port: TextSchema<number> = z.string().transform((text, ctx) => {
  return parsePortText(text.trim()) ?? fail(ctx, 'expected a TCP port between 1 and 65535, e.g. 9092');
});

export function integer(min: number, max: number, example: number): TextSchema<number> {
  return z.string().transform((text, ctx) => {
    const trimmed = text.trim();
    const value = Number(trimmed);
    if (!/^-?\d+$/.test(trimmed) || value < min || value > max) {
      return fail(ctx, `expected a whole number from ${min} to ${max}, e.g. ${example}`);
    }
    return value;
  });
}

export const brokerList: TextSchema<readonly string[]> = z.string().transform((text, ctx) => {
  const hint = 'expected a comma-separated list of host:port, e.g. 127.0.0.1:9092';
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.every((entry) => entry === '')) return fail(ctx, `is empty; ${hint}`);
  for (const entry of entries) {
    const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d+)$/.exec(entry);
    if (!match || parsePortText(match[2] ?? '') === undefined) {
      return fail(ctx, `"${entry}" is not host:port; ${hint}`);
    }
  }
  return Object.freeze(entries);
});

export function url(protocols: readonly string[], example: string): TextSchema<string> {
  return z.string().transform((text, ctx) => {
    const hint = `expected a ${protocols.join(' or ')} URL, e.g. ${example}`;
    let parsed: URL;
    try {
      parsed = new URL(text.trim());
    } catch {
      return fail(ctx, hint);
    }
    if (!protocols.includes(parsed.protocol.replace(/:$/, '')) || parsed.hostname === '') {
      return fail(ctx, hint);
    }
    return text.trim();
  });
}

/** A URL whose path names a database, like `mysql://root@127.0.0.1:3306/kappa`. */
export function databaseUrl(protocol: string, example: string): TextSchema<string> {
  return url([protocol], example).transform((text, ctx) => {
    const database = decodeURIComponent(new URL(text).pathname.replace(/^\//, ''));
    if (!/^[A-Za-z0-9_]{1,64}$/.test(database)) {
      return fail(ctx, `must name a database (letters, digits, _) in its path, e.g. ${example}`);
    }
    return text;
  });
}

export function duration(example: string): TextSchema<number> {
  return z.string().transform((text, ctx) => {
    const millis = parseDuration(text);
    if (millis === undefined || millis <= 0) {
      return fail(ctx, `expected a positive duration with a unit, e.g. ${example}, 1m or 60 minutes`);
    }
    return millis;
  });
}

/** A file or directory path, made absolute against the working directory. */
export const directory: TextSchema<string> = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  if (trimmed === '') return fail(ctx, 'expected a path, e.g. .kappa');
  return isAbsolute(trimmed) ? trimmed : resolve(process.cwd(), trimmed);
});

/** Kafka's own rule for topic names: 1-249 of [a-zA-Z0-9._-], not "." or "..". */
export const topicName: TextSchema<string> = z.string().transform((text, ctx) => {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(text) || text === '.' || text === '..') {
    return fail(ctx, 'expected a Kafka topic name: 1-249 letters, digits, ".", "_" or "-"');
  }
  return text;
});

export const timeZone: TextSchema<string> = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  try {
    // Intl is the authority on IANA names; it throws RangeError for unknown zones.
    return new Intl.DateTimeFormat('en-US', { timeZone: trimmed }).resolvedOptions().timeZone;
  } catch {
    return fail(ctx, `"${trimmed}" is not an IANA time zone; e.g. Asia/Seoul or UTC`);
  }
});

export function oneOf<const T extends string>(values: readonly T[]): TextSchema<T> {
  return z.string().transform((text, ctx) => {
    const trimmed = text.trim();
    return (values as readonly string[]).includes(trimmed)
      ? (trimmed as T)
      : fail(ctx, `expected one of ${values.join(', ')}`);
  });
}

/** Apache Kafka 3.9.x: kafkajs 2.2.4 is proven against it; 4.x removed protocol versions it uses (KIP-896). */
export const kafkaVersion: TextSchema<string> = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  return /^3\.9\.\d+$/.test(trimmed)
    ? trimmed
    : fail(ctx, 'expected an Apache Kafka 3.9.x release, e.g. 3.9.2 (kafkajs does not support 4.x)');
});

export const javaHeap: TextSchema<string> = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  return /^\d+[kKmMgG]$/.test(trimmed) ? trimmed : fail(ctx, 'expected a JVM heap size, e.g. 512m or 1g');
});

export const host: TextSchema<string> = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  return /^([A-Za-z0-9.-]{1,253}|[0-9a-fA-F:]{2,39})$/.test(trimmed)
    ? trimmed
    : fail(ctx, 'expected a host name or IP address, e.g. 127.0.0.1 or 0.0.0.0');
});

/** A fraction from 0 to 1 inclusive, e.g. 0.05. */
export const fraction: TextSchema<number> = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return trimmed !== '' && Number.isFinite(value) && value >= 0 && value <= 1
    ? value
    : fail(ctx, 'expected a fraction from 0 to 1, e.g. 0.05');
});

/** A JSON object, e.g. {"hello":"ssm-seoul"}. */
export const jsonObject: TextSchema<Readonly<Record<string, unknown>>> = z.string().transform((text, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return fail(ctx, `is not JSON (${(error as Error).message}); expected an object, e.g. {"hello":"ssm-seoul"}`);
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : fail(ctx, 'expected a JSON object, e.g. {"hello":"ssm-seoul"}');
});

/** A short non-empty label, e.g. 남성. */
export const label: TextSchema<string> = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  return trimmed !== '' && trimmed.length <= 64
    ? trimmed
    : fail(ctx, 'expected a non-empty label of at most 64 characters');
});

/** An optional secret: empty (disabled) or 16+ visible characters without spaces. */
export const token: TextSchema<string> = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  return trimmed === '' || /^[\x21-\x7e]{16,256}$/.test(trimmed)
    ? trimmed
    : fail(ctx, 'expected at least 16 visible characters without spaces (or empty to disable)');
});

/** Candidate watermark delays, e.g. 15s,30s,60s,5m,1h: each a duration (0s allowed) `kappa lateness` answers exactly. */
export const delayList: TextSchema<readonly number[]> = z.string().transform((text, ctx) => {
  const delays: number[] = [];
  for (const entry of text.split(',').map((part) => part.trim())) {
    const millis = parseDuration(entry);
    if (millis === undefined || millis < 0)
      return fail(ctx, `"${entry}" is not a duration; expected a comma-separated list, e.g. 15s,30s,60s,5m,1h`);
    const problem = delayProblem(millis);
    if (problem !== undefined) return fail(ctx, `"${entry}": ${problem}`);
    delays.push(millis);
  }
  if (delays.length > 50) return fail(ctx, 'expected at most 50 delays');
  return Object.freeze([...new Set(delays)].sort((a, b) => a - b));
});

/** A share from 0 to 1, as a percentage (0.1%) or a fraction (0.001). */
export const share: TextSchema<number> = z.string().transform((text, ctx) => {
  const trimmed = text.trim();
  const percent = trimmed.endsWith('%');
  const digits = percent ? trimmed.slice(0, -1).trim() : trimmed;
  const value = Number(digits) / (percent ? 100 : 1);
  return /^\d+(\.\d+)?$/.test(digits) && value >= 0 && value <= 1
    ? value
    : fail(ctx, 'expected a percentage or a fraction from 0 to 1, e.g. 0.1% or 0.001');
});

/** `user,dept,age` → each dimension once, in the order given (a version records them so). */
export function nameList<const T extends string>(values: readonly T[]): TextSchema<readonly T[]> {
  return z.string().transform((text, ctx) => {
    const names = text.split(',').map((name) => name.trim());
    const unknown = names.filter((name) => !(values as readonly string[]).includes(name));
    if (unknown.length > 0 || names.length === 0)
      return fail(
        ctx,
        `expected a comma-separated list of ${values.join(', ')}; got ${unknown.join(', ') || 'nothing'}`,
      );
    return [...new Set(names)] as T[];
  });
}

/** A replication factor or minimum: `auto` (derived from the broker count) or a whole number. */
export function replication(max: number): TextSchema<number | 'auto'> {
  return z.string().transform((text, ctx) => {
    const trimmed = text.trim();
    if (trimmed === 'auto') return 'auto' as const;
    const value = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || value < 1 || value > max) {
      return fail(ctx, `expected auto or a whole number from 1 to ${max}, e.g. 3`);
    }
    return value;
  });
}

/** An optional file path ('' = none), made absolute against the working directory. */
export const optionalFile: TextSchema<string> = z.string().transform((text) => {
  const trimmed = text.trim();
  return trimmed === '' ? '' : resolve(trimmed);
});

/** Free text kept as typed ('' = none): a user name. */
export const text: TextSchema<string> = z.string();
