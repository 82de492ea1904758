import { loadConfig } from '../config/load.js';
import { useKafkaSecurity } from '../kafka/client.js';
import { KAFKA_SECURITY_SETTINGS, loadKafkaSecurity, type KafkaSecurity } from '../kafka/security.js';

/**
 * The TLS / SASL settings (KAPPA_KAFKA_SSL*, KAPPA_KAFKA_SASL*) read from the environment and
 * installed for every client createKafka makes in this process — what the CLI does before any
 * command — so the bench's clients, its baselines and the stages it runs in-process connect alike.
 * The bench and each process it starts (replays, API servers) call it once; stage processes are
 * the CLI, which reads the same environment.
 */
export async function useBenchKafkaSecurity(): Promise<KafkaSecurity | undefined> {
  const security = await loadKafkaSecurity(loadConfig(KAFKA_SECURITY_SETTINGS, { env: process.env }));
  useKafkaSecurity(security);
  return security;
}
