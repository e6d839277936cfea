// PIPE (seed 000): reports to an external program's stdin. Real child processes: a slow reader
// (back-pressure), a program that dies (restart with back-off), a command that does not exist.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleLemf } from '@li/schemas/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PipeTransport } from '../src/adapters/pipe-transport.ts';
import { systemClock } from '../src/adapters/system-clock.ts';
import { record, testApp, waitFor } from './helpers/util.ts';

let dir = '';
const cleanup: (() => Promise<void>)[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'li-dlv-pipe-'));
  // reads slowly (pauses between chunks), appends to argv[2]; exits with 3 on a record holding DIE
  writeFileSync(
    join(dir, 'sink.mjs'),
    `import { appendFileSync } from 'node:fs';
const out = process.argv[2];
const delay = Number(process.argv[3] ?? 0);
process.stdin.on('data', (c) => {
  appendFileSync(out, c);
  if (c.includes('DIE')) process.exit(3);
  if (delay) { process.stdin.pause(); setTimeout(() => process.stdin.resume(), delay); }
});
`,
  );
});
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pipeLemf = (id: string, args: string[], command = process.execPath) =>
  sampleLemf({ id, transport: 'PIPE', address: null, ccAddress: null, pipe: { command, args } });

describe('PIPE delivery', () => {
  it('writes with back-pressure to a slow reader; the output equals what was sent', async () => {
    const out = join(dir, 'slow.out');
    const t = new PipeTransport({
      command: process.execPath,
      args: [join(dir, 'sink.mjs'), out, '5'],
      framing: 'raw',
      clock: systemClock,
      backoff: { baseMs: 50, maxMs: 500, jitter: 0 },
    });
    t.start();
    cleanup.push(() => t.close());
    const records = Array.from({ length: 48 }, (_, i) =>
      record('p', 'LIIDP', i, 'REPORT', Buffer.alloc(64 * 1024, `report-${i};`)),
    );
    const res = await t.send({ records, file: null });
    expect(res).toEqual({ confirmed: 48, error: null });
    expect(t.backpressureWaits).toBeGreaterThan(0);
    await t.close();
    expect(readFileSync(out).equals(Buffer.concat(records.map((r) => r.bytes)))).toBe(true);
  });

  it('restarts a program that died and goes on delivering', async () => {
    const out = join(dir, 'die.out');
    const { app, commits } = testApp();
    cleanup.push(() => app.stop());
    await app.applyLemf(pipeLemf('pipe', [join(dir, 'sink.mjs'), out]));
    const first = [
      record('pipe', 'L', 0, 'REPORT', Buffer.from('one\n')),
      record('pipe', 'L', 1, 'REPORT', Buffer.from('DIE\n')),
    ];
    app.offer('pipe', first);
    await app.delivery('pipe')!.drained();
    await waitFor(() => app.status()[0]?.lastErrorCode === 'DLV_ERR_PIPE', 'program death on status');
    const later = [
      record('pipe', 'L', 2, 'REPORT', Buffer.from('two\n')),
      record('pipe', 'L', 3, 'REPORT', Buffer.from('three\n')),
    ];
    app.offer('pipe', later);
    await app.delivery('pipe')!.drained();
    await waitFor(() => readFileSync(out, 'utf8') === 'one\nDIE\ntwo\nthree\n', 'output after restart');
    expect(app.status()[0]!.connected).toBe(true);
    expect(commits.at(-1)?.offset).toBe(later[1]!.source.offset + 1);
  });

  it('a command that does not exist is a clear status error, never a crash', async () => {
    const { app, commits } = testApp();
    cleanup.push(() => app.stop());
    await app.applyLemf(pipeLemf('nope', [], join(dir, 'no-such-program')));
    app.offer('nope', [record('nope', 'L', 0, 'REPORT', Buffer.from('x'))]);
    await waitFor(() => {
      const s = app.status()[0];
      return s?.lastErrorCode === 'DLV_ERR_PIPE' && s.retries > 0;
    }, 'ENOENT on status');
    expect(app.status()[0]!.lastErrorMessage).toContain('ENOENT');
    expect(commits).toEqual([]);
  });
});
