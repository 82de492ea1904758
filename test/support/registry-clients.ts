import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { AvroDeserializer, AvroSerializer } from '@confluentinc/schemaregistry/dist/serde/avro.js';
import { SerdeType } from '@confluentinc/schemaregistry/dist/serde/serde.js';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { RawAvroSchema } from '@kafkajs/confluent-schema-registry/dist/@types.js';

/**
 * The two real client libraries behind one interface, so the same integration tests run through
 * both. Subjects follow the topic-name strategy (`<topic>-value`), which is what Confluent's serde uses.
 */
export interface RegistryClientUnderTest {
  readonly name: string;
  register(subject: string, schema: string): Promise<number>;
  idOf(subject: string, schema: string): Promise<number>;
  latestId(subject: string): Promise<number>;
  /** Confluent wire format: magic byte, schema id, Avro binary. */
  encode(topic: string, id: number, value: unknown): Promise<Buffer>;
  /** Decodes with the subject's current (latest) schema as the reader. */
  decode(topic: string, payload: Buffer, readerSchema: string): Promise<unknown>;
}

export function kafkajsClient(url: string): RegistryClientUnderTest {
  const registry = new SchemaRegistry({ host: url });
  return {
    name: '@kafkajs/confluent-schema-registry',
    register: async (subject, schema) => (await registry.register({ type: SchemaType.AVRO, schema }, { subject })).id,
    idOf: (subject, schema) => registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema }),
    latestId: (subject) => registry.getLatestSchemaId(subject),
    encode: (_topic, id, value) => registry.encode(id, value),
    decode: (_topic, payload, readerSchema) =>
      registry.decode(payload, {
        [SchemaType.AVRO]: { readerSchema: JSON.parse(readerSchema) as RawAvroSchema },
      }) as Promise<unknown>,
  };
}

export function confluentClient(url: string): RegistryClientUnderTest {
  const client = new SchemaRegistryClient({ baseURLs: [url], maxRetries: 1 });
  const deserializer = new AvroDeserializer(client, SerdeType.VALUE, { useLatestVersion: true });
  return {
    name: '@confluentinc/schemaregistry',
    register: (subject, schema) => client.register(subject, { schemaType: 'AVRO', schema }),
    idOf: (subject, schema) => client.getId(subject, { schemaType: 'AVRO', schema }),
    latestId: async (subject) => (await client.getLatestSchemaMetadata(subject)).id ?? -1,
    encode: (topic, id, value) =>
      new AvroSerializer(client, SerdeType.VALUE, { useSchemaId: id, autoRegisterSchemas: false }).serialize(
        topic,
        value,
      ),
    decode: (topic, payload) => deserializer.deserialize(topic, payload) as Promise<unknown>,
  };
}
