import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIMENSIONS } from '../aggregates/job-names.js';
import { MANAGED_NAMES, planSwitch, SERVING_POINTER, viewName } from './switch-plan.js';

const views = (...names: string[]) => new Map(names.map((name) => [name, 'VIEW']));

describe('planSwitch: the views and the serving pointer in one RENAME TABLE', () => {
  it('first switch: creates every view and the pointer, renames them in one statement', () => {
    const decision = planSwitch(new Map(), { version: 'v1', dims: ['user', 'dept', 'age'] });
    expect(decision).toEqual({
      ok: true,
      plan: {
        create: [
          'CREATE OR REPLACE VIEW `events_users__next` AS SELECT window_start, window_end, `user_name`, count, idle_closed FROM `events_users_v1`',
          'CREATE OR REPLACE VIEW `events_depts__next` AS SELECT window_start, window_end, `dept_name`, count, idle_closed FROM `events_depts_v1`',
          'CREATE OR REPLACE VIEW `events_ages__next` AS SELECT window_start, window_end, `age`, count, idle_closed FROM `events_ages_v1`',
          "CREATE OR REPLACE VIEW `kappa_serving_version__next` AS SELECT 'v1' AS version",
        ],
        rename:
          'RENAME TABLE `events_users__next` TO `events_users`, `events_depts__next` TO `events_depts`, `events_ages__next` TO `events_ages`, `kappa_serving_version__next` TO `kappa_serving_version`',
        leftovers: [],
      },
    });
  });

  it('later switches move the old views aside in the same statement', () => {
    const decision = planSwitch(views('events_users', SERVING_POINTER), { version: 'v2', dims: ['user', 'age'] });
    expect(decision.ok && decision.plan.rename).toBe(
      'RENAME TABLE `events_users` TO `events_users__old`, `events_users__next` TO `events_users`, `events_ages__next` TO `events_ages`, `kappa_serving_version` TO `kappa_serving_version__old`, `kappa_serving_version__next` TO `kappa_serving_version`',
    );
    expect(decision.ok && decision.plan.leftovers).toEqual(['events_users__old', 'kappa_serving_version__old']);
  });

  it('refuses a target lacking a dimension whose view exists, naming it', () => {
    expect(planSwitch(views('events_users', 'events_depts', 'events_ages'), { version: 'v5', dims: ['user'] })).toEqual(
      {
        ok: false,
        problem: expect.stringMatching(
          /^v5 has no dept, age tables, whose views \(events_depts, events_ages\)/,
        ) as string,
      },
    );
  });

  it('refuses when a real table holds a managed name', () => {
    const decision = planSwitch(new Map([['events_users', 'BASE TABLE']]), { version: 'v2', dims: ['user'] });
    expect(decision).toMatchObject({
      ok: false,
      problem: expect.stringContaining('events_users is a table') as string,
    });
  });

  it('property: the pointer is always swapped, every existing managed view is moved aside exactly once', () => {
    const dimsArb = fc.subarray([...DIMENSIONS], { minLength: 1 });
    fc.assert(
      fc.property(dimsArb, dimsArb, fc.boolean(), fc.integer({ min: 1, max: 999 }), (before, after, hadPointer, n) => {
        const existing = views(...before.map((dim) => viewName(dim)), ...(hadPointer ? [SERVING_POINTER] : []));
        const decision = planSwitch(existing, { version: `v${n}`, dims: after });
        const lacking = before.some((dim) => !after.includes(dim));
        expect(decision.ok).toBe(!lacking);
        if (!decision.ok) return;
        const { rename, leftovers } = decision.plan;
        expect(rename.match(/ TO /g)?.length).toBe(after.length + 1 + existing.size);
        expect(rename).toContain(`\`${SERVING_POINTER}__next\` TO \`${SERVING_POINTER}\``);
        expect([...leftovers].sort()).toEqual([...existing.keys()].map((name) => `${name}__old`).sort());
        expect(MANAGED_NAMES).toEqual(expect.arrayContaining([...existing.keys()]));
      }),
    );
  });
});
