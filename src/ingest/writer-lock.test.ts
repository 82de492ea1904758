import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { claimWriterFolder, currentLock, judgeLock, THIS_PROCESS, type LockHolder } from './writer-lock.js';

const me: LockHolder = { pid: 100, host: 'here', instance: 'me' };
const alive = (pid: number) => pid !== 666;

describe('judgeLock', () => {
  it('frees a released lock, a dead pid of this host, and an earlier process that had this pid', () => {
    expect(judgeLock({ pid: 7, host: 'there', instance: 'x', released: true }, 0, me, alive)).toBe('free');
    expect(judgeLock({ pid: 666, host: 'here', instance: 'x' }, 0, me, alive)).toBe('free');
    expect(judgeLock({ pid: 100, host: 'here', instance: 'before-a-restart' }, 0, me, alive)).toBe('free');
  });

  it('keeps a live pid, this very process, another host, and a lock still being written', () => {
    expect(judgeLock({ pid: 7, host: 'here', instance: 'x' }, 0, me, alive)).toBe('held');
    expect(judgeLock(me, 0, me, alive)).toBe('held');
    expect(judgeLock({ pid: 666, host: 'there', instance: 'x' }, 0, me, alive)).toBe('held');
    expect(judgeLock(undefined, 1_000, me, alive)).toBe('held');
    expect(judgeLock(undefined, 120_000, me, alive)).toBe('free');
  });

  it('never frees a lock of a live process that has not released it', () => {
    fc.assert(
      fc.property(
        fc.record({ pid: fc.nat(1_000), host: fc.constantFrom('here', 'there'), instance: fc.constantFrom('me', 'x') }),
        fc.nat(200_000),
        (holder, age) => {
          const verdict = judgeLock(holder, age, me, alive);
          const isMe = holder.pid === me.pid && holder.host === me.host && holder.instance === me.instance;
          if (isMe || (holder.pid !== 666 && holder.pid !== me.pid) || holder.host !== me.host)
            expect(verdict).toBe('held');
        },
      ),
    );
  });
});

describe('currentLock', () => {
  it('is the highest lock number, 0 when never locked', () => {
    expect(currentLock([])).toBe(0);
    expect(currentLock(['chunk-0000000000000001.json', 'lock.2', 'lock.10', 'lock.x', 'lock.3.tmp'])).toBe(10);
  });
});

describe('claimWriterFolder', () => {
  it('gives two claims of one process two folders, and a released folder back to the next claim', async () => {
    const topicDir = mkdtempSync(join(tmpdir(), 'kappa-writers-'));
    const first = await claimWriterFolder(topicDir);
    const second = await claimWriterFolder(topicDir);
    expect(first.writerId).toMatch(/^writer-[0-9a-f]{12}$/);
    expect(second.writerId).not.toBe(first.writerId);
    await first.release();
    expect((await claimWriterFolder(topicDir)).writerId).toBe(first.writerId);
    expect(THIS_PROCESS.pid).toBe(process.pid);
  });

  it('takes over the folder of a dead writer, and exactly one of several claimers racing for it does', async () => {
    const topicDir = mkdtempSync(join(tmpdir(), 'kappa-writers-'));
    const dead = join(topicDir, 'writer-00000000dead');
    mkdirSync(dead);
    writeFileSync(join(dead, 'lock.3'), JSON.stringify({ pid: 666, host: 'here', instance: 'gone' }));
    const claimers = Array.from({ length: 8 }, (_, index) => ({
      pid: 200 + index,
      host: 'here',
      instance: `c${index}`,
    }));
    const claimed = await Promise.all(claimers.map((holder) => claimWriterFolder(topicDir, { me: holder, alive })));
    const ids = claimed.map((folder) => folder.writerId);
    expect(new Set(ids).size).toBe(claimers.length);
    expect(ids.filter((id) => id === 'writer-00000000dead')).toHaveLength(1);
    expect(readdirSync(dead).filter((name) => name.startsWith('lock.'))).toEqual(['lock.4']);
  });
});

describe('claimWriterFolder, choosing among free folders', () => {
  it('takes a folder with a leftover buffer first, then one whose writer crashed, then a released one', async () => {
    const topicDir = mkdtempSync(join(tmpdir(), 'kappa-writers-'));
    const folder = (name: string, holder: LockHolder, chunk: boolean) => {
      mkdirSync(join(topicDir, name));
      writeFileSync(join(topicDir, name, 'lock.1'), JSON.stringify(holder));
      if (chunk) writeFileSync(join(topicDir, name, 'chunk-0000000000000007.json'), '{}');
    };
    folder('writer-000000000001', { pid: 1, host: 'here', instance: 'a', released: true }, false);
    folder('writer-000000000002', { pid: 666, host: 'here', instance: 'b' }, false);
    folder('writer-000000000003', { pid: 1, host: 'here', instance: 'c', released: true }, true);
    const claim = (index: number) =>
      claimWriterFolder(topicDir, { me: { pid: 300 + index, host: 'here', instance: `n${index}` }, alive });
    expect((await claim(0)).writerId).toBe('writer-000000000003');
    expect((await claim(1)).writerId).toBe('writer-000000000002');
    expect((await claim(2)).writerId).toBe('writer-000000000001');
  });
});
