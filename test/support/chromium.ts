import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

/**
 * Debian's chromium for the browser test, installed with apt when missing and running as root (as
 * on CI). Waits for the dpkg lock: another test may be installing a package at the same moment.
 * Returns why it is unavailable, or undefined when it is there.
 */
export function ensureChromium(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  if (process.getuid?.() !== 0) return `${CHROMIUM} is missing; install it: apt-get install chromium`;
  const apt = (args: readonly string[]) =>
    spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: 'ignore',
      timeout: 600_000,
    });
  const install = ['install', '-y', '--no-install-recommends', 'chromium'];
  if (apt(install).status !== 0) {
    apt(['update']);
    apt(install);
  }
  return existsSync(CHROMIUM) ? undefined : `apt-get install chromium did not provide ${CHROMIUM}`;
}
