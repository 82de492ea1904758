import { join } from 'node:path';
import { z } from 'zod';
import { readStateFile, removeStateFile, writeStateFile } from './state-file.js';

/** Where a local broker keeps everything, below the state directory. */
export function brokerPaths(stateDir: string) {
  const root = join(stateDir, 'kafka');
  return {
    root,
    dataDir: join(root, 'data'),
    logFile: join(root, 'broker.log'),
    stateFile: join(root, 'broker.json'),
    serverProperties: join(root, 'server.properties'),
    log4jProperties: join(root, 'log4j.properties'),
  } as const;
}

const brokerStateSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  port: z.number().int(),
  controllerPort: z.number().int(),
  version: z.string(),
  dataDir: z.string(),
  logFile: z.string(),
  startedAt: z.string(),
});

export type BrokerState = Readonly<z.infer<typeof brokerStateSchema>>;

export function readBrokerState(stateDir: string): Promise<BrokerState | undefined> {
  return readStateFile(brokerPaths(stateDir).stateFile, brokerStateSchema);
}

export function writeBrokerState(stateDir: string, state: BrokerState): Promise<void> {
  return writeStateFile(brokerPaths(stateDir).stateFile, state);
}

export function clearBrokerState(stateDir: string): Promise<void> {
  return removeStateFile(brokerPaths(stateDir).stateFile);
}
