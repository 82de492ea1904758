import type { SettingKey } from '../../config/settings.js';
import type { CommandSpec } from '../command.js';
import { aggregate } from './aggregate.js';
import { enrichCommand } from './enrich.js';
import { explainCommand } from './explain.js';
import { ingest } from './ingest.js';
import { latenessCommand } from './lateness.js';
import { cutoverCommand, diffCommand, recover, rollbackCommand, statusCommand, verifyCommand } from './recovery.js';
import { registry } from './registry.js';
import { serve } from './serve.js';
import { schemasCheck, schemasRegister } from './schemas.js';
import { stackDown, stackStatus, stackUp } from './stack.js';
import { up } from './up.js';

/** Every `kappa` sub-command, in the order `kappa --help` lists them (SPEC §2.1). */
export const COMMANDS: readonly CommandSpec<SettingKey>[] = [
  up,
  stackUp,
  stackDown,
  stackStatus,
  registry,
  ingest,
  enrichCommand,
  aggregate,
  recover,
  cutoverCommand,
  rollbackCommand,
  diffCommand,
  explainCommand,
  verifyCommand,
  serve,
  statusCommand,
  latenessCommand,
  schemasCheck,
  schemasRegister,
];
