import { SETTINGS, SETTING_KEYS } from './settings.js';

/** The README's configuration table, generated from the settings (a test keeps the README in step). */
export function configTable(): string {
  const rows = SETTING_KEYS.map((key) => {
    const setting = SETTINGS[key];
    const fallback = setting.shownDefault ?? (typeof setting.default === 'string' ? setting.default : '');
    const fileEnv = (setting as { fileEnv?: string }).fileEnv;
    const env = fileEnv === undefined ? `\`${setting.env}\`` : `\`${setting.env}\` or \`${fileEnv}\``;
    const flag = setting.envOnly === true ? '(env only)' : `\`${setting.flag.split(' ')[0] ?? ''}\``;
    return `| ${env} | ${flag} | \`${fallback}\` | ${setting.doc.replace(/\|/g, '\\|')} |`;
  });
  return ['| variable | flag | default | meaning |', '|---|---|---|---|', ...rows].join('\n');
}
