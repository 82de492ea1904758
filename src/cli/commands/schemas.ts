import { valueSubject } from '../../kafka/topics.js';
import type { SchemaHistory } from '../../registry/schema-history.js';
import { KappaError } from '../../shared/errors.js';
import { defineCommand } from '../command.js';

/** The topic a schemas/ folder describes: the configured topic for the two pipeline roles. */
export function topicFor(folder: string, config: Omit<SchemaSettings, 'schemasDir'>): string {
  if (folder === 'events') return config.topicEvents;
  if (folder === 'events_stages') return config.topicStages;
  return folder;
}

type SchemaSettings = { readonly schemasDir: string; readonly topicEvents: string; readonly topicStages: string };

/** The histories of the schemas directory, refused (exit 1, one line per problem) unless all are compatible. */
async function checkedHistories(config: SchemaSettings): Promise<SchemaHistory[]> {
  // Loaded when run, not when the command line is parsed: `kappa --help` does not pay for Avro.
  const { checkSchemaHistory, loadSchemaHistories } = await import('../../registry/schema-history.js');
  const histories = await loadSchemaHistories(config.schemasDir);
  const problems = histories.flatMap((history) =>
    checkSchemaHistory(history, valueSubject(topicFor(history.name, config))),
  );
  if (problems.length > 0)
    throw new KappaError('KAPPA_SCHEMAS_INCOMPATIBLE', `${problems.length} schema problem(s):\n${problems.join('\n')}`);
  return histories;
}

export const schemasCheck = defineCommand({
  name: 'schemas check',
  summary: 'Check offline that every schema history in schemas/ parses and is compatible under its level',
  settings: ['schemasDir', 'topicEvents', 'topicStages'],
  run: async ({ config, print }) => {
    const histories = await checkedHistories(config);
    for (const history of histories) {
      print(
        `${valueSubject(topicFor(history.name, config))}: v1..v${history.versions.length} ${history.level} compatible (${history.name}/)`,
      );
    }
    return 0;
  },
});

export const schemasRegister = defineCommand({
  name: 'schemas register',
  summary: 'Register every version in schemas/, in order, with the schema registry; prints the ids',
  settings: ['schemasDir', 'registryUrl', 'topicEvents', 'topicStages'],
  run: async ({ config, print }) => {
    const histories = await checkedHistories(config);
    const [{ registryClient }, { registerHistory }] = await Promise.all([
      import('../../registry/registry-client.js'),
      import('../../registry/register-history.js'),
    ]);
    const registry = registryClient(config.registryUrl);
    for (const history of histories) {
      const subject = valueSubject(topicFor(history.name, config));
      for (const { version, id } of await registerHistory(registry, history, subject, config.registryUrl))
        print(`${subject} v${version}: id ${id}`);
    }
    return 0;
  },
});
