import type { z } from 'zod';
import { ConfigError, ConfigErrors } from '../shared/errors.js';

/**
 * Validates a command's own options (those that are not shared settings) with the same schemas
 * and the same one-line errors as settings: every bad option is reported, then exit 2.
 */
export class OptionValues {
  private readonly errors: ConfigError[] = [];

  constructor(private readonly raw: Readonly<Record<string, unknown>>) {}

  /** The parsed value of `--flag` (attribute `name`), or the default when the flag was not given. */
  get<T>(name: string, flag: string, schema: z.ZodType<T, string>, fallback: string): T;
  get<T>(name: string, flag: string, schema: z.ZodType<T, string>): T | undefined;
  get<T>(name: string, flag: string, schema: z.ZodType<T, string>, fallback?: string): T | undefined {
    const given = this.raw[name];
    const text = typeof given === 'string' ? given : fallback;
    if (text === undefined) return undefined;
    const result = schema.safeParse(text);
    if (result.success) return result.data;
    this.errors.push(
      new ConfigError(
        name,
        `invalid ${flag} ${JSON.stringify(text)}: ${result.error.issues[0]?.message ?? 'is invalid'}`,
      ),
    );
    return undefined;
  }

  /** Records a problem found by a check across options. */
  reject(name: string, message: string): void {
    this.errors.push(new ConfigError(name, message));
  }

  /** Throws every problem found so far (exit 2), or does nothing. */
  check(): void {
    if (this.errors.length > 0) throw new ConfigErrors(this.errors);
  }
}
