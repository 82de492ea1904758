import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * One disk-buffer folder per writer, guarded by a lock so that a folder is never used by two live
 * processes. The folder's name is the writer's stable id: a restarted writer takes over a folder
 * whose lock holder is dead, and with it that writer's leftover buffer and id block.
 *
 * The lock is a series of files `lock.1`, `lock.2`, …: the highest one is the lock. A process takes
 * a free or stale lock by creating the next file with O_EXCL — of two processes that found the same
 * stale holder, exactly one creates `lock.<n+1>`; nothing is ever unlinked and re-created, so
 * there is no window in which two processes both think they hold it.
 */

/** This process: a pid alone is not enough (a restarted container is pid 1 again). */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** Random per process. */
  readonly instance: string;
  readonly released?: boolean;
}

const holderSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  instance: z.string(),
  released: z.boolean().optional(),
});

export const THIS_PROCESS: LockHolder = {
  pid: process.pid,
  host: hostname(),
  instance: randomBytes(8).toString('hex'),
};

/** A lock file without a readable holder is being written — unless it is older than this (its writer died). */
const UNREADABLE_STALE_MS = 60_000;

export type LockVerdict = 'free' | 'held';

/**
 * Whether a lock file's holder may still be using the folder. Pure; `alive` asks the OS about a
 * pid of this host. Errs towards `held`: a folder wrongly thought held only means a new folder.
 */
export function judgeLock(
  holder: LockHolder | undefined,
  ageMs: number,
  me: LockHolder,
  alive: (pid: number) => boolean,
): LockVerdict {
  if (holder === undefined) return ageMs > UNREADABLE_STALE_MS ? 'free' : 'held';
  if (holder.released === true) return 'free';
  if (holder.host !== me.host) return 'held'; // another machine's pid cannot be checked from here
  if (holder.pid === me.pid) return holder.instance === me.instance ? 'held' : 'free';
  return alive(holder.pid) ? 'held' : 'free';
}

/** The highest lock file's number among a folder's entries (0: never locked). */
export function currentLock(names: readonly string[]): number {
  let highest = 0;
  for (const name of names) {
    const match = /^lock\.(\d+)$/.exec(name);
    if (match !== null) highest = Math.max(highest, Number(match[1]));
  }
  return highest;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface WriterFolder {
  /** The writer's stable id: the folder's name. */
  readonly writerId: string;
  readonly dir: string;
  /** Marks the lock released (the process may keep running, e.g. tests or `kappa up`). */
  release(): Promise<void>;
}

async function readHolder(path: string): Promise<{ holder: LockHolder | undefined; ageMs: number } | undefined> {
  try {
    const [text, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    let holder: LockHolder | undefined;
    try {
      const parsed = holderSchema.safeParse(JSON.parse(text));
      holder = parsed.success ? parsed.data : undefined;
    } catch {
      holder = undefined;
    }
    return { holder, ageMs: Date.now() - info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Takes the folder's lock if it is free; undefined if a live process holds it (or won the race). */
async function tryLock(
  dir: string,
  me: LockHolder,
  alive: (pid: number) => boolean,
): Promise<WriterFolder | undefined> {
  const names = await readdir(dir);
  const current = currentLock(names);
  if (current > 0) {
    const found = await readHolder(join(dir, `lock.${current}`));
    // Gone meanwhile: the folder is changing hands right now; leave it.
    if (found === undefined || judgeLock(found.holder, found.ageMs, me, alive) === 'held') return undefined;
  }
  const path = join(dir, `lock.${current + 1}`);
  let file;
  try {
    file = await open(path, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
  try {
    await file.writeFile(JSON.stringify(me));
    await file.sync();
  } finally {
    await file.close();
  }
  // Stalled across two hand-overs, this process may have created a number below the lock.
  if (currentLock(await readdir(dir)) > current + 1) {
    await rm(path, { force: true });
    return undefined;
  }
  for (const name of names) if (currentLock([name]) > 0) await rm(join(dir, name), { force: true });
  return {
    writerId: dir.split(/[\\/]/).at(-1) ?? dir,
    dir,
    release: () => writeFile(path, JSON.stringify({ ...me, released: true })),
  };
}

const WRITER_FOLDER = /^writer-[0-9a-f]{12}$/;

/** 0: leftover chunks to deliver; 1: its writer did not release it (crashed); 2: released cleanly. */
async function takeOverRank(dir: string): Promise<number> {
  const entries = await readdir(dir).catch(() => []);
  if (entries.some((name) => name.startsWith('chunk-'))) return 0;
  const found = await readHolder(join(dir, `lock.${currentLock(entries)}`));
  return found?.holder?.released === true ? 2 : 1;
}

/**
 * A writer folder under `topicDir` for this process: the first one whose lock is free (a stopped
 * or dead writer, taken over with its leftover buffer and id block), or a new one.
 */
export async function claimWriterFolder(
  topicDir: string,
  { me = THIS_PROCESS, alive = pidAlive }: { me?: LockHolder; alive?: (pid: number) => boolean } = {},
): Promise<WriterFolder> {
  await mkdir(topicDir, { recursive: true });
  const names = (await readdir(topicDir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory() && WRITER_FOLDER.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  // A folder with a leftover buffer first, then one whose writer died (the rest of its id block).
  const ranked = await Promise.all(
    names.map(async (name) => ({ name, rank: await takeOverRank(join(topicDir, name)) })),
  );
  const existing = ranked.sort((a, b) => a.rank - b.rank).map((entry) => entry.name);
  for (const name of existing) {
    const claimed = await tryLock(join(topicDir, name), me, alive);
    if (claimed !== undefined) return claimed;
  }
  for (;;) {
    const dir = join(topicDir, `writer-${randomBytes(6).toString('hex')}`);
    await mkdir(dir);
    const claimed = await tryLock(dir, me, alive);
    if (claimed !== undefined) return claimed;
  }
}
