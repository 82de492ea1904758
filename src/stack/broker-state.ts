import { join } from 'node:path';
import { z } from 'zod';
import { readStateFile, removeStateFile, writeStateFile } from './state-file.js';

/** Where a local broker keeps everything, below the state directory. */
export function brokerPaths(stateDir: string): NodePaths {
  return nodePaths(join(stateDir, 'kafka'));
}

/** Where node `nodeId` of a local cluster keeps everything: `<state>/kafka/node-N/`. */
export function clusterNodePaths(stateDir: string, nodeId: number): NodePaths {
  return nodePaths(join(stateDir, 'kafka', `node-${nodeId}`));
}

export type NodePaths = ReturnType<typeof nodePaths>;

/** The files of one KRaft node below its own folder. */
export function nodePaths(root: string) {
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
  /** Set for a node of a local cluster (`stack up --brokers N`). */
  nodeId: z.number().int().positive().optional(),
});

export type BrokerState = Readonly<z.infer<typeof brokerStateSchema>>;

export function readBrokerState(stateDir: string): Promise<BrokerState | undefined> {
  return readNodeState(brokerPaths(stateDir));
}

export function readNodeState(paths: NodePaths): Promise<BrokerState | undefined> {
  return readStateFile(paths.stateFile, brokerStateSchema);
}

export function writeNodeState(paths: NodePaths, state: BrokerState): Promise<void> {
  return writeStateFile(paths.stateFile, state);
}

export function clearNodeState(paths: NodePaths): Promise<void> {
  return removeStateFile(paths.stateFile);
}
