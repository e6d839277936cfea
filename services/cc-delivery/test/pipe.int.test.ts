// PIPE (seed 000): reports to an external program's stdin. Real child processes: a slow reader
// (back-pressure), a program that dies (restart with back-off), a command that does not exist.
// The command comes only from the operator's allow-list (pipeCommands); a LEMF names an entry.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '@li/core';
import { sampleLemf } from '@li/schemas/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PipeTransport } from '../src/adapters/pipe-transport.ts';
import { record, testDeliveries, waitFor } from './helpers/util.ts';

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

const pipeLemf = (id: string, entry: string) =>
  sampleLemf({ id, transport: 'PIPE', address: null, ccAddress: null, pipe: { entry } });

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
    const { deliveries, commits } = testDeliveries({
      pipeCommands: { sink: { command: process.execPath, args: [join(dir, 'sink.mjs'), out] } },
    });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(pipeLemf('pipe', 'sink'));
    const first = [
      record('pipe', 'L', 0, 'REPORT', Buffer.from('one\n')),
      record('pipe', 'L', 1, 'REPORT', Buffer.from('DIE\n')),
    ];
    deliveries.offer('pipe', first);
    await deliveries.delivery('pipe')!.drained();
    await waitFor(() => deliveries.status()[0]?.lastErrorCode === 'DLV_ERR_PIPE', 'program death on status');
    const later = [
      record('pipe', 'L', 2, 'REPORT', Buffer.from('two\n')),
      record('pipe', 'L', 3, 'REPORT', Buffer.from('three\n')),
    ];
    deliveries.offer('pipe', later);
    await deliveries.delivery('pipe')!.drained();
    await waitFor(() => readFileSync(out, 'utf8') === 'one\nDIE\ntwo\nthree\n', 'output after restart');
    expect(deliveries.status()[0]!.connected).toBe(true);
    expect(commits.at(-1)?.offset).toBe(later[1]!.source.offset + 1);
  });

  it('a command that does not exist is a clear status error, never a crash', async () => {
    const { deliveries, commits } = testDeliveries({
      pipeCommands: { nope: { command: join(dir, 'no-such-program') } },
    });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(pipeLemf('nope', 'nope'));
    deliveries.offer('nope', [record('nope', 'L', 0, 'REPORT', Buffer.from('x'))]);
    await waitFor(() => {
      const s = deliveries.status()[0];
      return s?.lastErrorCode === 'DLV_ERR_PIPE' && s.retries > 0;
    }, 'ENOENT on status');
    expect(deliveries.status()[0]!.lastErrorMessage).toContain('ENOENT');
    expect(commits).toEqual([]);
  });

  it('an entry outside the allow-list runs nothing: status DLV_ERR_PIPE_ENTRY, metric, nothing committed', async () => {
    const marker = join(dir, 'ran.out');
    const { deliveries, commits, registry } = testDeliveries({
      pipeCommands: { sink: { command: process.execPath, args: [join(dir, 'sink.mjs'), marker] } },
    });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(pipeLemf('rogue', 'not-allowed'));
    deliveries.offer('rogue', [record('rogue', 'L', 0, 'REPORT', Buffer.from('x'))]);
    await waitFor(() => (deliveries.status()[0]?.retries ?? 0) > 0, 'a refused attempt');
    expect(deliveries.status()[0]).toMatchObject({ lastErrorCode: 'DLV_ERR_PIPE_ENTRY', connected: false, pending: 1 });
    expect(await registry.metrics()).toMatch(
      /li_cc_delivery_last_error_info\{tenant="acme",lemf="rogue",transport="PIPE",code="DLV_ERR_PIPE_ENTRY"\} 1/,
    );
    expect(existsSync(marker)).toBe(false);
    expect(commits).toEqual([]);
  });

  it('runs the program with an empty environment and as the configured uid/gid', async () => {
    // as root, the entry drops to nobody; otherwise it names our own ids (no switch possible)
    const root = process.getuid?.() === 0;
    const uid = root ? 65534 : process.getuid!();
    const gid = root ? 65534 : process.getgid!();
    chmodSync(dir, 0o777); // the unprivileged program writes its report here
    const out = join(dir, 'whoami.json');
    writeFileSync(
      join(dir, 'whoami.mjs'),
      `import { writeFileSync } from 'node:fs';
process.stdin.once('data', () => {
  writeFileSync(process.argv[2], JSON.stringify({ env: process.env, uid: process.getuid(), gid: process.getgid() }));
});
`,
    );
    process.env.LI_SECRET_PROBE = 'must-not-leak';
    cleanup.push(async () => {
      delete process.env.LI_SECRET_PROBE;
    });
    // The program must be reachable by the uid it runs as. A clone in a private directory
    // (mktemp -d makes it 0700, as CI does) is not, so run Node through a link in our own directory.
    const node = join(dir, 'node');
    try {
      linkSync(process.execPath, node);
    } catch {
      copyFileSync(process.execPath, node);
      chmodSync(node, 0o755);
    }
    const { deliveries } = testDeliveries({
      pipeCommands: { who: { command: node, args: [join(dir, 'whoami.mjs'), out], uid, gid } },
    });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(pipeLemf('who', 'who'));
    deliveries.offer('who', [record('who', 'L', 0, 'REPORT', Buffer.from('go\n'))]);
    const seen = await waitFor(() => existsSync(out) && readFileSync(out, 'utf8'), 'program report');
    expect(JSON.parse(seen)).toEqual({ env: {}, uid, gid });
  });
});
