// A real Diameter exchange with freeDiameter: CER/CEA, DWR/DWA both ways, ACR/ACA EVENT_RECORD, DPR/DPA.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@li/log/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcrFileStore } from '../src/adapters/acr-files.ts';
import { buildAcrAvps } from '../src/adapters/diameter/acr.ts';
import { asU32, findAvp } from '../src/adapters/diameter/codec.ts';
import { BASE } from '../src/adapters/diameter/dictionary.ts';
import { DiameterPeer } from '../src/adapters/diameter/peer.ts';
import { CdsSink, LocalStorageSink } from '../src/adapters/reporters.ts';
import { sampleReports } from '../src/testing/reports.ts';
import { type FreeDiameter, freePort, startFreeDiameter } from './freediameter.ts';
import { identity, peerConfig } from './rf-peer.ts';

let fd: FreeDiameter;
beforeAll(async () => {
  fd = await startFreeDiameter({ twTimer: 6 });
});
afterAll(async () => {
  await fd?.stop();
});

function peer(): DiameterPeer {
  return new DiameterPeer(peerConfig(fd.port, { answerTimeoutMs: 5_000, connectTimeoutMs: 3_000 }));
}

describe('Diameter Rf against freeDiameter', () => {
  it('exchanges capabilities, watchdogs, an MCID ACR EVENT_RECORD answered 2001, and disconnects', async () => {
    const p = peer();
    await p.open();
    expect(p.state).toBe('open');
    expect(p.remoteHost).toBe('cds.test.local');

    const rtt = await p.watchdogNow();
    expect(rtt).toBeGreaterThan(0);

    const [report] = sampleReports(1);
    const aca = await p.account(buildAcrAvps(report!, identity));
    expect(aca.resultCode).toBe(2001);
    expect(asU32(findAvp(aca.answer.avps, BASE.ACCOUNTING_RECORD_TYPE))).toBe(1);
    expect(asU32(findAvp(aca.answer.avps, BASE.ACCOUNTING_RECORD_NUMBER))).toBe(0);

    // freeDiameter parsed our ACR with its 3GPP dictionary: the MCID AVPs appear by name and value.
    const dump = fd.dumps();
    expect(dump).toContain('Accounting-Request');
    expect(dump).toMatch(/MMTel-SService-Type[^\n]*14/);
    expect(dump).toMatch(/Service-Mode[^\n]*\b0\b/); // CDIV entry: CFU
    expect(dump).toMatch(/Calling-Party-Address[^\n]*sip:\+15550001111@ims\.example\.net/);
    expect(dump).toMatch(/Requested-Party-Address[^\n]*sip:\+15552220000@ims\.example\.net/);
    expect(dump).toMatch(/Role-Of-Node[^\n]*1/i);

    // freeDiameter's own watchdog (TwTimer 6 s, jittered ±2 s) reaches us and is answered.
    const deadline = Date.now() + 12_000;
    while (p.watchdogsAnswered === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(p.watchdogsAnswered).toBeGreaterThan(0);
    expect(p.state).toBe('open');

    await p.close();
    expect(p.state).toBe('closed');
  }, 30_000);

  it('an unknown peer identity is refused at capabilities exchange', async () => {
    const p = new DiameterPeer({
      ...peer().config,
      originHost: 'intruder.other.example',
      originRealm: 'other.example',
    });
    await expect(p.open()).rejects.toMatchObject({ code: expect.stringMatching(/^MCD_ERR_DIAMETER_/) });
  });

  it('the CDS sink delivers to freeDiameter, and spools to local ACR files when the CDS is unreachable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcid-spool-'));
    try {
      const files = new AcrFileStore(
        {
          directory: dir,
          fileSystem: 'PL-1',
          nodeId: 'mcid1',
          maxTimeMs: 60_000,
          maxRecords: 10,
          maxBytes: 1 << 20,
          fullDiskPercent: 99.9,
          notFullDiskPercent: 90,
        },
        { registry: new Registry() },
      );
      const spool = new LocalStorageSink(files, identity);
      const [a, b] = sampleReports(2);
      const good = new CdsSink(peer().config, identity, { spool, log: silentLogger });
      expect(await good.deliver(a!)).toEqual({ ok: true, via: 'CDS', detail: 'cds.test.local' });
      await good.close();

      const deadPort = await freePort();
      const bad = new CdsSink({ ...peer().config, port: deadPort }, identity, { spool, log: silentLogger });
      const r = await bad.deliver(b!);
      expect(r).toMatchObject({ ok: true, via: 'LOCAL' });
      await bad.close();
      expect(readdirSync(dir).filter((f) => f.endsWith('.acr'))).toHaveLength(1);

      const noSpool = new CdsSink({ ...peer().config, port: deadPort }, identity, { log: silentLogger });
      expect(await noSpool.deliver(b!)).toMatchObject({ ok: false, code: 'MCD_ERR_DIAMETER_CONNECT' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers the DPR freeDiameter sends when it shuts down, and reports the connection closed', async () => {
    const own = await startFreeDiameter();
    try {
      const p = new DiameterPeer({ ...peer().config, port: own.port });
      const closed = new Promise<string>((resolve) => {
        p.onClose = resolve;
      });
      await p.open();
      await own.stop();
      expect(await closed).toBe('connection closed');
      expect(p.disconnectsAnswered).toBe(1);
      expect(p.state).toBe('closed');
      await expect(p.account([])).rejects.toMatchObject({ code: 'MCD_ERR_DIAMETER_CLOSED' });
    } finally {
      await own.stop();
    }
  });
});
