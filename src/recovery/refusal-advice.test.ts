import { describe, expect, it } from 'vitest';
import { behindAdvice, versionFlags, type BehindVersion } from './refusal-advice.js';

const v2: BehindVersion = {
  version: 'v2',
  topic: 'events_stages',
  settings: { sizeMs: 10_000, slideMs: 5_000, delayMs: 3_600_000 },
  dims: ['user', 'dept'],
};

describe('what a cutover refused for a version behind says', () => {
  it('gives the flags of the settings the version was created with', () => {
    expect(versionFlags(v2)).toBe(
      '--stages-topic events_stages --window 10s --slide 5s --watermark 1h --dims user,dept',
    );
    expect(versionFlags({ ...v2, settings: { sizeMs: 1_500, slideMs: 1_500, delayMs: 0 } })).toContain(
      '--window 1500ms --slide 1500ms --watermark 0ms',
    );
  });

  it('with nothing feeding it: says so and what to run, with those settings', () => {
    const advice = behindAdvice(v2, { group: 'kappa-aggregate.events_stages.v2', members: 0 });
    expect(advice).toContain('nothing feeds v2 (its consumer group kappa-aggregate.events_stages.v2 has no members)');
    expect(advice).toContain(`\`kappa aggregate --version v2 ${versionFlags(v2)}\``);
    expect(advice).toContain(`\`kappa recover --to v2 ${versionFlags(v2)} --cutover\``);
    expect(advice).not.toContain('--wait');
  });

  it('with consumers feeding it: says it is catching up and how to wait for it', () => {
    expect(behindAdvice(v2, { group: 'g', members: 1 })).toBe(
      '1 consumer feeds v2 (consumer group g): it is catching up; `kappa cutover --to v2 --wait 2m` switches once it has',
    );
    expect(behindAdvice(v2, { group: 'g', members: 3 })).toMatch(/^3 consumers feed v2 /);
  });
});
