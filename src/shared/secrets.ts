import { createHash, timingSafeEqual } from 'node:crypto';

/** What a secret is replaced with wherever kappa shows text: errors, log lines, `status`. */
export const MASK = '***';

/**
 * `scheme://user:password@host` for any scheme (mysql, mongodb, http …): the authority runs to the
 * first `/`, `?`, `#`, quote or space, and its userinfo to the last `@` in it (drivers accept an
 * unescaped `@` in a password).
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'`]*)@/gi;
const BEARER = /\b(Bearer\s+)[^\s"',;]+/gi;

/**
 * Masks every secret in `text`: passwords in URLs, `Bearer` credentials, and each of the given
 * secret values wherever it appears (tokens of 8+ characters; shorter ones would mask ordinary words).
 */
export function maskSecrets(text: string, secrets: readonly string[] = []): string {
  let masked = text
    .replace(URL_USERINFO, (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return `${scheme}${colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:${MASK}`}@`;
    })
    .replace(BEARER, `$1${MASK}`);
  for (const secret of secrets) if (secret.length >= 8) masked = masked.split(secret).join(MASK);
  return masked;
}

/** A structured value (log fields, JSON output) with every string in it masked; keys named like secrets blanked. */
export function maskDeep(value: unknown, secrets: readonly string[] = [], depth = 0): unknown {
  if (typeof value === 'string') return maskSecrets(value, secrets);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => maskDeep(item, secrets, depth + 1));
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] =
      SECRET_KEY.test(key) && typeof item === 'string' && item !== '' ? MASK : maskDeep(item, secrets, depth + 1);
  }
  return out;
}

/** Field names whose string values are secrets themselves (`token`, `apiToken`, `password`, `authorization`). */
const SECRET_KEY = /token$|password$|^authorization$|secret$/i;

/**
 * Whether `given` equals `expected`, in time that does not depend on where they differ or on the
 * length of either: both are hashed to SHA-256 first, so `timingSafeEqual` always compares 32
 * bytes (it throws on buffers of different lengths, e.g. a non-ASCII string of the right length).
 * Never true for an empty `expected`.
 */
export function secretMatches(given: string, expected: string): boolean {
  if (expected === '') return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}
