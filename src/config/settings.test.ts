import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configTable } from './config-table.js';
import { SETTINGS, SETTING_KEYS } from './settings.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('settings', () => {
  it('give every setting its own flag and KAPPA_ variable', () => {
    const flags = SETTING_KEYS.map((key) => SETTINGS[key].flag.split(' ')[0]);
    const envs = SETTING_KEYS.map((key) => SETTINGS[key].env);
    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(envs).size).toBe(envs.length);
    for (const env of envs) expect(env).toMatch(/^KAPPA_[A-Z0-9_]+$/);
  });

  it('accept their own defaults', () => {
    for (const key of SETTING_KEYS) {
      const fallback = SETTINGS[key].default;
      const result = SETTINGS[key].schema.safeParse(typeof fallback === 'function' ? fallback() : fallback);
      expect(result.success, key).toBe(true);
    }
  });

  it('are documented in the README configuration table, exactly as generated', () => {
    // To refresh: npx tsx -e "import('./src/config/config-table.ts').then((m) => console.log(m.configTable()))"
    expect(readme).toContain(configTable());
  });
});
