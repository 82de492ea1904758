import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MASKING } from './logger.js';

const LOGGER = fileURLToPath(new URL('./logger.ts', import.meta.url));

/**
 * How many of pino-pretty's files a fresh Node process has loaded after creating a JSON logger, and
 * then after creating a pretty one. A child process, because this one (vitest's) may have loaded
 * anything; pino-pretty is CommonJS, so whatever loads it lands in the CommonJS module cache.
 */
function prettyModulesLoaded(): { afterJson: number; afterPretty: number } {
  const script = `
    import { createRequire } from 'node:module';
    const { createLogger } = await import(${JSON.stringify(LOGGER)});
    const cache = createRequire(import.meta.url).cache;
    const loaded = () => Object.keys(cache).filter((file) => file.includes('pino-pretty')).length;
    createLogger('silent', 'probe', 'json');
    const afterJson = loaded();
    createLogger('silent', 'probe', 'pretty');
    process.stdout.write(JSON.stringify({ afterJson, afterPretty: loaded() }));
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`probe failed (${child.status}): ${child.stderr}`);
  return JSON.parse(child.stdout) as { afterJson: number; afterPretty: number };
}

describe('createLogger', () => {
  it('loads pino-pretty only when pretty output is chosen (JSON logs: every stage, every piped command)', () => {
    const { afterJson, afterPretty } = prettyModulesLoaded();
    expect(afterJson).toBe(0);
    expect(afterPretty).toBeGreaterThan(0);
  });
});

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
