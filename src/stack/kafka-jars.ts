import type { Logger } from '../shared/logger.js';
import { ensureMavenJars, type MavenJarSet } from './maven-jars.js';

/** slf4j binding matching the slf4j-api 1.7.36 that Kafka 3.9 depends on; without one the broker logs nothing. */
const SLF4J_BINDING_VERSION = '1.7.36';

/** The broker (kafka_2.13), the perf tools and a log binding. */
function kafkaJarSet(version: string): MavenJarSet {
  return {
    name: `kafka-${version}`,
    title: `Apache Kafka ${version}`,
    dependencies: [
      ['org.apache.kafka', 'kafka_2.13', version],
      ['org.apache.kafka', 'kafka-tools', version],
      ['org.slf4j', 'slf4j-reload4j', SLF4J_BINDING_VERSION],
    ],
    requiredJar: `kafka_2.13-${version}.jar`,
    failure: 'KAPPA_KAFKA_FETCH_FAILED',
  };
}

/** The directory holding the Apache Kafka jars, fetched from Maven Central the first time. */
export function ensureKafkaJars(cacheDir: string, version: string, logger: Logger): Promise<string> {
  return ensureMavenJars(cacheDir, kafkaJarSet(version), logger);
}
