import { formatCount } from '../shared/progress.js';
import type { ReplayPlan } from './replay-plan.js';
import type { SchemaIdReport } from './schema-preflight.js';

/** The schema ids of a log, one line each: records, and why any would be dead-lettered. */
export function describeSchemaIds(topic: string, reports: readonly SchemaIdReport[]): string[] {
  const lines = [`  schema ids in ${topic}:`];
  for (const report of reports) {
    const dead = Object.entries(report.deadLetters)
      .map(([reason, count]) => `${formatCount(count)} ${reason}`)
      .join(', ');
    const state = report.resolves ? (report.readable ? 'readable' : 'NOT readable') : 'NOT in the registry';
    lines.push(
      `    ${report.schemaId === null ? '(not Avro)' : `id ${report.schemaId}`}: ${formatCount(report.records)} records, ${state}` +
        `${report.problem === undefined ? '' : ` (${report.problem})`}${dead === '' ? '' : `; dead letters: ${dead}`}`,
    );
  }
  return lines;
}

/** `kappa recover --plan`, as text. */
export function describePlan(plan: ReplayPlan): string[] {
  const { late, estimate } = plan;
  const rows = Object.entries(plan.rows).map(([dim, count]) => `${dim} ${formatCount(count)}`);
  const chain = plan.fullChain;
  return [
    `plan for ${plan.version} (nothing changed): ${formatCount(plan.records)} records of ${plan.topic} to replay`,
    ...(chain === undefined
      ? []
      : [
          `  full chain: enriched again into ${chain.stagesTopic} (in memory for this plan, by the enrichment's rules)`,
        ]),
    `  per partition: ${plan.partitions.map((entry) => `${entry.partition}: ${formatCount(entry.records)}`).join(', ')}`,
    ...describeSchemaIds(plan.topic, plan.schemaIds),
    chain === undefined
      ? `  dead letters: ${formatCount(plan.deadLetters)}`
      : `  dead letters: ${formatCount(plan.deadLetters)} (${formatCount(chain.enrichDeadLetters)} by the enrichment, ` +
        `${formatCount(plan.deadLetters - chain.enrichDeadLetters)} by the aggregator)`,
    `  rows: ${rows.length === 0 ? 'none' : rows.join(', ')} (~${formatCount(Math.ceil(plan.approxBytes / 1024))} KiB in MySQL)`,
    late.servingVersion === undefined
      ? `  late events: ${formatCount(late.planned)} (no serving version on ${plan.topic} to compare with)`
      : `  late events: ${formatCount(late.serving ?? 0)} in ${late.servingVersion} (the analyser: ${formatCount(late.servingAnalysed ?? 0)}), ` +
        `${formatCount(late.planned)} with ${plan.version}'s settings → ${formatCount(late.recovered ?? 0)} recovered`,
    `  estimated duration: ${estimate.seconds} s (start-up ${(estimate.startupMs / 1_000).toFixed(1)} s; reading the log ${(estimate.readMs / 1_000).toFixed(1)} s, twice; ` +
      `${formatCount(estimate.sampleRecords)} records through the aggregator with MySQL commits in ${formatCount(estimate.sampleMs)} ms)`,
    ...(chain === undefined
      ? []
      : [
          '    (a full chain: three logs read; the sample enriches in memory, the enrichment’s writes to Kafka are not sampled)',
        ]),
  ];
}
