import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
