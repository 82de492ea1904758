/** The first JSON log line (pino, as kappa writes to a file or pipe) whose message is `msg`. */
export function logEntry(log: string, msg: string): Record<string, unknown> | undefined {
  for (const line of log.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry['msg'] === msg) return entry;
  }
  return undefined;
}
