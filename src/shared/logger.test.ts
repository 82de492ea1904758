import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MASKING } from './logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'info', ...MASKING }, stream), lines };
}

describe('log lines never show a secret', () => {
  it('masks URL passwords in messages, fields and errors, and blanks fields named like secrets', () => {
    const { logger, lines } = capture();
    logger.info({ url: 'mysql://root:S3cret@127.0.0.1:3306/kappa', token: 'a-token-0123456789abcdef' }, 'connecting');
    logger.warn('retrying mongodb://kappa:M0ngo@db:27017/kappa');
    logger.error({ err: new Error('connect failed for mysql://root:S3cret@db/kappa') }, 'failed');
    logger.info({ headers: { authorization: 'Bearer abcdefabcdefabcdef' } }, 'request');
    const text = lines.join('');
    expect(text).not.toMatch(/S3cret|M0ngo|a-token-0123456789abcdef|abcdefabcdefabcdef/);
    expect(text).toContain('mysql://root:***@127.0.0.1:3306/kappa');
    expect(text).toContain('mongodb://kappa:***@db:27017/kappa');
    expect(text).toContain('"token":"***"');
  });
});
