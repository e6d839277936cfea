// TS 102 232-1 over TCP against a real LEMF harness on 127.0.0.1: byte equality, asn1c decode,
// keep-alives, PDU acknowledgement, TLS with client certificates, outage and recovery.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleLemf } from '@li/schemas/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LemfHarness } from '../src/testing/index.ts';
import { psPdu } from './helpers/ber.ts';
import { goldenCodec } from './helpers/codec.ts';
import { decodePsPdus, psPduDecoder } from './helpers/decoders.ts';
import { record, sleep, testDeliveries, waitFor } from './helpers/util.ts';

const harnesses: LemfHarness[] = [];
const stops: (() => Promise<void>)[] = [];
async function lemf(o: ConstructorParameters<typeof LemfHarness>[0] = {}) {
  const h = await new LemfHarness(o).start();
  harnesses.push(h);
  return h;
}

beforeAll(() => {
  psPduDecoder();
});

afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  for (const h of harnesses.splice(0)) await h.stop();
});

describe('ETSI TCP delivery', () => {
  it('sends HI2 and HI3 on separate connections, byte-equal, decodable, with keep-alives', async () => {
    const hi2 = await lemf();
    const hi3 = await lemf();
    const { deliveries, registry, commits } = testDeliveries({ codec: goldenCodec });
    stops.push(() => deliveries.stop());
    await deliveries.applyLemf(
      sampleLemf({
        allowInsecure: true,
        id: 'l1',
        address: { host: '127.0.0.1', port: hi2.port },
        ccAddress: { host: '127.0.0.1', port: hi3.port },
        keepaliveSeconds: 1,
        keepaliveTimeoutSeconds: 1,
      }),
    );
    const sent = [];
    for (let i = 0; i < 200; i++) {
      const iri = i % 2 === 0;
      sent.push(record('l1', 'LIIDA', i >> 1, iri ? 'HI2' : 'HI3', psPdu(iri ? 'iri' : 'cc', 'LIIDA', 7, i >> 1)));
    }
    deliveries.offer('l1', sent);
    await deliveries.delivery('l1')!.drained();
    await waitFor(() => hi2.frames.length === 100 && hi3.frames.length === 100, 'all PDUs');
    expect(Buffer.concat(hi2.frames)).toEqual(
      Buffer.concat(sent.filter((r) => r.stream === 'HI2').map((r) => r.bytes)),
    );
    expect(Buffer.concat(hi3.frames)).toEqual(
      Buffer.concat(sent.filter((r) => r.stream === 'HI3').map((r) => r.bytes)),
    );
    const decoded = decodePsPdus(Buffer.concat(hi2.frames));
    expect(decoded.map((d) => d.seq)).toEqual([...Array(100).keys()]);
    expect(new Set(decoded.map((d) => d.liid))).toEqual(new Set(['LIIDA']));
    expect(decodePsPdus(Buffer.concat(hi3.frames))).toHaveLength(100);
    expect(commits.at(-1)?.offset).toBe(sent.at(-1)!.source.offset + 1);
    // keep-alive round trip measured on both connections
    await waitFor(
      () => hi2.keepalives > 0 && hi3.keepalives > 0 && deliveries.status()[0]?.keepaliveRttMs !== null,
      'keep-alive',
    );
    const st = deliveries.status()[0]!;
    expect(st.connected).toBe(true);
    expect(st.recordsSent).toBe(200);
    const text = await registry.metrics();
    expect(text).toMatch(
      /li_cc_delivery_sent_records_total\{tenant="acme",lemf="l1",transport="ETSI_TCP",stream="HI2"\} 100/,
    );
    expect(text).toMatch(/li_cc_delivery_connected_bool\{tenant="acme",lemf="l1",transport="ETSI_TCP"\} 1/);
    expect(text).toMatch(/li_cc_delivery_keepalive_rtt_seconds\{[^}]*\} \d/);
    expect(text).not.toContain('LIIDA');
  });

  it('reconnects when keep-alive responses stop coming', async () => {
    const silent = await lemf({ answerKeepalives: false });
    const { deliveries } = testDeliveries({ codec: goldenCodec });
    stops.push(() => deliveries.stop());
    await deliveries.applyLemf(
      sampleLemf({
        allowInsecure: true,
        id: 'l2',
        address: { host: '127.0.0.1', port: silent.port },
        ccAddress: { host: '127.0.0.1', port: silent.port },
        keepaliveSeconds: 1,
        keepaliveTimeoutSeconds: 1,
      }),
    );
    await waitFor(
      () => deliveries.status()[0]?.lastErrorCode === 'DLV_ERR_KEEPALIVE_TIMEOUT',
      'keep-alive timeout',
      10_000,
    );
    await waitFor(() => silent.connections >= 3, 'reconnect after timeout', 10_000);
  });

  it('keep-alives go out on their own schedule while a backlog drains, and are answered in time', async () => {
    // a LEMF reading ~4 MB/s; the backlog takes longer than the keep-alive interval to drain
    const slow = await lemf({ pauseMsPerChunk: 15 });
    const { deliveries } = testDeliveries({ codec: goldenCodec });
    stops.push(() => deliveries.stop());
    await deliveries.applyLemf(
      sampleLemf({
        allowInsecure: true,
        id: 'ka',
        address: { host: '127.0.0.1', port: slow.port },
        ccAddress: { host: '127.0.0.1', port: slow.port },
        keepaliveSeconds: 1,
        keepaliveTimeoutSeconds: 3,
      }),
    );
    const total = 40_000;
    const pdu = psPdu('iri', 'LIIDK', 1, 0);
    deliveries.offer(
      'ka',
      Array.from({ length: total }, (_, i) => record('ka', 'LIIDK', i, 'HI2', pdu)),
    );
    await deliveries.delivery('ka')!.drained();
    await waitFor(() => slow.frames.length >= total, 'backlog delivered', 25_000);
    const during = slow.keepaliveAt.filter((n) => n > 0 && n < total);
    const st = deliveries.status()[0]!;
    console.log(`backlog ${total}: ${during.length} keep-alives interleaved, last RTT ${st.keepaliveRttMs} ms`);
    expect(during.length).toBeGreaterThan(0);
    expect(st.lastErrorCode).toBeNull();
    expect(slow.connections).toBe(2); // the HI2 and HI3 connections, never re-opened
    expect(slow.frames.length).toBe(total);
  });

  it('confirms on PDU acknowledgement when the LEMF supports it', async () => {
    const acking = await lemf({ ackEach: true });
    const { deliveries, commits } = testDeliveries({ codec: goldenCodec });
    stops.push(() => deliveries.stop());
    await deliveries.applyLemf(
      sampleLemf({
        allowInsecure: true,
        id: 'l3',
        acknowledged: true,
        address: { host: '127.0.0.1', port: acking.port },
        ccAddress: { host: '127.0.0.1', port: acking.port },
        keepaliveSeconds: 0,
      }),
    );
    const sent = Array.from({ length: 50 }, (_, i) => record('l3', 'LIIDB', i, 'HI2', psPdu('iri', 'LIIDB', 1, i)));
    deliveries.offer('l3', sent);
    await deliveries.delivery('l3')!.drained();
    expect(acking.frames).toHaveLength(50);
    expect(commits.at(-1)?.offset).toBe(sent.at(-1)!.source.offset + 1);
    expect(deliveries.status()[0]!.resent).toBe(0);
  });

  const confirmation = {
    drain: 'socket drain + resend window (keep-alives off)',
    keepalive: 'answered keep-alive + resend window',
    ack: 'PDU acknowledgement',
  } as const;
  for (const mode of ['drain', 'keepalive', 'ack'] as const) {
    const acknowledged = mode === 'ack';
    it(`outage (${confirmation[mode]}): every record arrives in order per LIID, no gap; another LEMF is unaffected`, async () => {
      const down = await lemf({ ackEach: acknowledged });
      const other = await lemf({ ackEach: acknowledged });
      const { deliveries } = testDeliveries({ codec: goldenCodec, resendWindowBytes: 64 * 1024 });
      stops.push(() => deliveries.stop());
      for (const [id, h] of [
        ['lemfA', down],
        ['lemfB', other],
      ] as const) {
        await deliveries.applyLemf(
          sampleLemf({
            allowInsecure: true,
            id,
            address: { host: '127.0.0.1', port: h.port },
            ccAddress: { host: '127.0.0.1', port: h.port },
            keepaliveSeconds: mode === 'keepalive' ? 1 : 0,
            acknowledged,
          }),
        );
      }
      const liids = ['LIID1', 'LIID2', 'LIID3'];
      const seqs = new Map(liids.map((l) => [l, 0]));
      const produce = (n: number) => {
        for (let i = 0; i < n; i++) {
          const liid = liids[i % liids.length]!;
          const seq = seqs.get(liid)!;
          seqs.set(liid, seq + 1);
          for (const id of ['lemfA', 'lemfB'])
            deliveries.offer(id, [record(id, liid, seq, 'HI2', psPdu('iri', liid, 3, seq))]);
        }
      };
      produce(300);
      await waitFor(() => down.frames.length >= 300, 'before outage');
      await down.stop();
      const bBefore = other.frames.length;
      for (let k = 0; k < 10; k++) {
        produce(60);
        await sleep(80);
      }
      await waitFor(() => other.frames.length === bBefore + 600, 'other LEMF kept receiving during the outage');
      expect(deliveries.status().find((s) => s.lemfId === 'lemfA')!.connected).toBe(false);
      expect(deliveries.delivery('lemfA')!.pending()).toBeGreaterThan(0);
      await down.start(); // same port
      produce(300);
      await deliveries.delivery('lemfA')!.drained();
      await deliveries.delivery('lemfB')!.drained();
      const total = 300 + 600 + 300;
      await waitFor(
        () => new Set(down.frames.map((f) => f.toString('hex'))).size === total,
        'all records after recovery',
      );
      const got = decodePsPdus(Buffer.concat(down.frames));
      const seen = new Set<string>();
      let duplicates = 0;
      const lastSeq = new Map<string, number>();
      for (const d of got) {
        const key = `${d.liid}/${d.cin}/${d.seq}`;
        if (seen.has(key)) {
          duplicates++;
          continue;
        }
        seen.add(key);
        // first occurrences per LIID come strictly in sequence: in order, no gap
        expect(d.seq).toBe((lastSeq.get(d.liid) ?? -1) + 1);
        lastSeq.set(d.liid, d.seq);
      }
      for (const l of liids) expect(lastSeq.get(l)).toBe(seqs.get(l)! - 1);
      const st = deliveries.status().find((s) => s.lemfId === 'lemfA')!;
      expect(duplicates).toBe(got.length - total);
      if (acknowledged) {
        // nothing replayed blindly: a duplicate needs a PDU received whose ack was lost in the drop
        expect(st.resent).toBe(0);
        expect(duplicates).toBeLessThanOrEqual(128);
      } else {
        expect(duplicates).toBeLessThanOrEqual(st.resent);
      }
      console.log(
        `outage (${mode}): ${total} records, ${duplicates} duplicates, replayed ${st.resent}, retries ${st.retries}`,
      );
      expect(new Set(other.frames.map((f) => f.toString('hex'))).size).toBe(total);
      expect(other.frames.length).toBe(total);
    });
  }
});

describe('ETSI TCP over TLS with client certificates', () => {
  let dir = '';
  const pem = (n: string) => readFileSync(join(dir, n));
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'li-dlv-tls-'));
    const sh = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    sh([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=test-ca',
    ]);
    for (const who of ['server', 'client']) {
      sh([
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        `${who}.key`,
        '-out',
        `${who}.csr`,
        '-subj',
        `/CN=${who === 'server' ? 'lemf.test' : 'mdf.test'}`,
      ]);
      execFileSync('sh', ['-c', `printf 'subjectAltName=DNS:lemf.test\n' > ext.cnf`], { cwd: dir });
      sh([
        'x509',
        '-req',
        '-in',
        `${who}.csr`,
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${who}.pem`,
        '-days',
        '1',
        ...(who === 'server' ? ['-extfile', 'ext.cnf'] : []),
      ]);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const secrets = (_tenant: string, ref: string) => {
    try {
      return pem(ref);
    } catch {
      return null;
    }
  };

  it('delivers over mutual TLS and reports a TLS error when the client certificate is missing', async () => {
    const tlsOpts = {
      key: pem('server.key'),
      cert: pem('server.pem'),
      ca: pem('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2' as const,
    };
    const h = await lemf({ tls: tlsOpts });
    const { deliveries } = testDeliveries({ codec: goldenCodec, secrets });
    stops.push(() => deliveries.stop());
    const base = {
      address: { host: '127.0.0.1', port: h.port },
      ccAddress: { host: '127.0.0.1', port: h.port },
      keepaliveSeconds: 0,
    };
    await deliveries.applyLemf(
      sampleLemf({
        id: 'tls-ok',
        ...base,
        tls: { caRef: 'ca.pem', certRef: 'client.pem', keyRef: 'client.key', serverName: 'lemf.test' },
      }),
    );
    await deliveries.applyLemf(
      sampleLemf({
        id: 'tls-nocert',
        ...base,
        tls: { caRef: 'ca.pem', certRef: null, keyRef: null, serverName: 'lemf.test' },
      }),
    );
    await deliveries.applyLemf(
      sampleLemf({
        id: 'tls-badref',
        ...base,
        tls: { caRef: 'missing.pem', certRef: null, keyRef: null, serverName: null },
      }),
    );
    const sent = Array.from({ length: 20 }, (_, i) => record('tls-ok', 'LIIDT', i, 'HI2', psPdu('iri', 'LIIDT', 9, i)));
    deliveries.offer('tls-ok', sent);
    deliveries.offer('tls-nocert', [record('tls-nocert', 'LIIDT', 0, 'HI2', psPdu('iri', 'LIIDT', 9, 0))]);
    await deliveries.delivery('tls-ok')!.drained();
    await waitFor(() => h.frames.length === 20, 'TLS frames');
    expect(Buffer.concat(h.frames)).toEqual(Buffer.concat(sent.map((r) => r.bytes)));
    await waitFor(() => {
      const s = deliveries.status().find((x) => x.lemfId === 'tls-nocert');
      return s && s.lastErrorCode !== null ? s : null;
    }, 'TLS failure on status');
    const nocert = deliveries.status().find((x) => x.lemfId === 'tls-nocert')!;
    expect(nocert.lastErrorCode).toBe('DLV_ERR_TLS');
    expect(h.frames.length).toBe(20); // nothing from the unauthenticated client reached the LEMF
    expect(deliveries.status().find((x) => x.lemfId === 'tls-badref')!.lastErrorCode).toBe('DLV_ERR_BAD_CONFIG');
  });
});
