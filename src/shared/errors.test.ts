import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConfigErrors,
  ERROR_CODES,
  httpStatusOf,
  KafkaContextError,
  KafkaUnreachableError,
  KappaError,
  type ErrorCode,
} from './errors.js';

const documented = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('error codes', () => {
  const codes = Object.keys(ERROR_CODES) as ErrorCode[];

  it.each(codes)('%s is documented with its exit code and retriability', (code) => {
    const row = documented.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
    expect(row, `docs/errors.md has no row for ${code}`).toBeDefined();
    const [, , exit, retriable] = (row ?? '').split('|').map((cell) => cell.trim());
    expect(Number(exit)).toBe(ERROR_CODES[code].exitCode);
    expect(retriable).toBe(ERROR_CODES[code].retriable ? 'yes' : 'no');
  });

  it.each(codes.filter((code) => 'httpStatus' in ERROR_CODES[code]))(
    '%s is documented with the HTTP status the API answers it with',
    (code) => {
      const row = documented.split('\n').find((line) => line.startsWith(`| \`${code}\` |`));
      expect(row).toContain(`HTTP ${httpStatusOf(code)}`);
    },
  );

  it('documents no code that does not exist', () => {
    const listed = [...documented.matchAll(/^\| `(KAPPA_[A-Z_]+)` \|/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual([...codes].sort());
  });
});

describe('KappaError', () => {
  it('carries code, retriable, cause and exit code', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new KappaError('KAPPA_KAFKA_FETCH_FAILED', 'fetch failed', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('KAPPA_KAFKA_FETCH_FAILED');
    expect(error.retriable).toBe(true);
    expect(error.cause).toBe(cause);
    expect(error.exitCode).toBe(1);
    expect(new KappaError('KAPPA_KAFKA_FETCH_FAILED', 'x', { retriable: false }).retriable).toBe(false);
  });

  it('groups configuration errors, one line each, exit 2', () => {
    const errors = new ConfigErrors([new ConfigError('a', 'invalid A'), new ConfigError('b', 'invalid B')]);
    expect(errors.message).toBe('invalid A\ninvalid B');
    expect(errors.exitCode).toBe(2);
    expect(errors.errors.map((error) => error.setting)).toEqual(['a', 'b']);
  });
});

describe('errors with context in fields', () => {
  it('KafkaContextError carries topic, partition, offset and schema id as fields, only those known', () => {
    const error = new KafkaContextError('KAPPA_BAD_RECORD', 'cannot decode', {
      topic: 'events',
      partition: 2,
      offset: '41',
      schemaId: 7,
    });
    expect(error).toBeInstanceOf(KappaError);
    expect(error).toMatchObject({ code: 'KAPPA_BAD_RECORD', topic: 'events', partition: 2, offset: '41', schemaId: 7 });
    const partial = new KafkaContextError('KAPPA_INGEST_TAIL_TIMEOUT', 'slow', { topic: 'events' });
    expect(partial.partition).toBeUndefined();
    expect(partial.retriable).toBe(true);
  });

  it('KafkaUnreachableError is the retriable KAPPA_KAFKA_UNREACHABLE', () => {
    const cause = new Error('connect ECONNREFUSED');
    expect(new KafkaUnreachableError('no broker', { cause })).toMatchObject({
      code: 'KAPPA_KAFKA_UNREACHABLE',
      retriable: true,
      cause,
    });
  });
});
