// Bad LEMF config is a clear error on the LEMF's status and metrics, never a crash; config
// changes apply live without losing queued records.
import type { LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { LemfHarness } from '../src/testing/index.ts';
import { psPdu } from './helpers/ber.ts';
import { freePort } from './helpers/servers.ts';
import { record, recordingLogger, testDeliveries, waitFor } from './helpers/util.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('bad LEMF config', () => {
  it('unknown transport, missing settings, unreachable and unresolvable hosts: status + metrics, no crash', async () => {
    const { deliveries, registry, commits } = testDeliveries();
    cleanup.push(() => deliveries.stop());
    const closed = await freePort();
    const bad: LemfDestination[] = [
      sampleLemf({ allowInsecure: true, id: 'unknown', transport: 'CARRIER_PIGEON' as LemfDestination['transport'] }),
      sampleLemf({ allowInsecure: true, id: 'noaddr', address: null }),
      sampleLemf({ allowInsecure: true, id: 'nofiles', transport: 'SFTP', files: null }),
      sampleLemf({
        allowInsecure: true,
        id: 'badname',
        transport: 'FTP',
        files: {
          directory: '.',
          namePattern: '../{liid}',
          maxRecords: 1,
          maxBytes: 1,
          maxSeconds: 1,
          username: null,
          credentialRef: null,
        },
      }),
      sampleLemf({
        allowInsecure: true,
        id: 'refused',
        address: { host: '127.0.0.1', port: closed },
        ccAddress: null,
        keepaliveSeconds: 0,
      }),
      sampleLemf({
        allowInsecure: true,
        id: 'nxdomain',
        address: { host: 'lemf.invalid', port: 1 },
        ccAddress: null,
        keepaliveSeconds: 0,
      }),
    ];
    for (const d of bad) await deliveries.applyLemf(d);
    for (const d of bad) deliveries.offer(d.id, [record(d.id, 'LIIDC', 0, 'HI2', psPdu('iri', 'LIIDC', 1, 0))]);
    const want: Record<string, string> = {
      unknown: 'DLV_ERR_UNKNOWN_TRANSPORT',
      noaddr: 'DLV_ERR_BAD_CONFIG',
      nofiles: 'DLV_ERR_BAD_CONFIG',
      badname: 'DLV_ERR_BAD_CONFIG',
      refused: 'DLV_ERR_CONNECT',
      nxdomain: 'DLV_ERR_CONNECT',
    };
    await waitFor(
      () => deliveries.status().every((s) => s.lastErrorCode === want[s.lemfId] && s.retries > 0),
      'every error on status',
    );
    for (const s of deliveries.status()) {
      expect(s.connected).toBe(false);
      expect(s.pending).toBe(1); // kept, not dropped: it goes out once the config is fixed
      expect(s.lastErrorMessage).toBeTruthy();
    }
    expect(commits).toEqual([]);
    const text = await registry.metrics();
    for (const id of Object.keys(want)) {
      expect(text).toMatch(
        new RegExp(
          `li_cc_delivery_last_error_timestamp_seconds\\{tenant="acme",lemf="${id}",transport="[A-Z_]+"\\} \\d`,
        ),
      );
      expect(text).toMatch(
        new RegExp(`li_cc_delivery_retries_total\\{tenant="acme",lemf="${id}",transport="[A-Z_]+"\\} [1-9]`),
      );
    }
  });

  it('a config fix applies live and the queued records go out; disabling stops the LEMF', async () => {
    const h = await new LemfHarness().start();
    cleanup.push(() => h.stop());
    const { deliveries } = testDeliveries();
    cleanup.push(() => deliveries.stop());
    const closed = await freePort();
    const base = sampleLemf({
      allowInsecure: true,
      id: 'fixme',
      address: { host: '127.0.0.1', port: closed },
      ccAddress: null,
      keepaliveSeconds: 0,
    });
    await deliveries.applyLemf(base);
    const sent = Array.from({ length: 30 }, (_, i) => record('fixme', 'LIIDL', i, 'HI2', psPdu('iri', 'LIIDL', 2, i)));
    deliveries.offer('fixme', sent);
    await waitFor(() => deliveries.status()[0]?.lastErrorCode === 'DLV_ERR_CONNECT', 'connect error');
    await deliveries.applyLemf({ ...base, version: 2, address: { host: '127.0.0.1', port: h.port } });
    await deliveries.delivery('fixme')!.drained();
    await waitFor(() => h.frames.length === 30, 'queued records after the fix');
    expect(Buffer.concat(h.frames)).toEqual(Buffer.concat(sent.map((r) => r.bytes)));
    await deliveries.applyLemf({ ...base, version: 3, address: { host: '127.0.0.1', port: h.port }, enabled: false });
    expect(deliveries.status()).toEqual([]);
    expect(deliveries.offer('fixme', sent)).toBe(false);
  });

  it('plaintext only with allowInsecure: refused without it (nothing sent), logged per connection and shown with it', async () => {
    const h = await new LemfHarness().start();
    cleanup.push(() => h.stop());
    const { log, lines } = recordingLogger();
    const { deliveries, registry } = testDeliveries({}, 128, log);
    cleanup.push(() => deliveries.stop());
    const dest = sampleLemf({
      id: 'plain',
      address: { host: '127.0.0.1', port: h.port },
      ccAddress: { host: '127.0.0.1', port: h.port },
      keepaliveSeconds: 0,
    });
    await deliveries.applyLemf(dest); // allowInsecure: false, the schema's default
    const sent = [record('plain', 'LIIDI', 0, 'HI2', psPdu('iri', 'LIIDI', 1, 0))];
    deliveries.offer('plain', sent);
    await waitFor(() => (deliveries.status()[0]?.retries ?? 0) > 0, 'a refused attempt');
    expect(deliveries.status()[0]).toMatchObject({ lastErrorCode: 'DLV_ERR_INSECURE', pending: 1, connected: false });
    expect(deliveries.status()[0]!.lastErrorMessage).toMatch(
      /ETSI_TCP without tls is plaintext; set tls or allowInsecure/,
    );
    expect(h.connections).toBe(0);
    const insecure = /li_cc_delivery_lemf_insecure\{tenant="acme",lemf="plain",transport="ETSI_TCP"\} (\d)/;
    expect((await registry.metrics()).match(insecure)?.[1]).toBe('0');

    await deliveries.applyLemf({ ...dest, allowInsecure: true, version: 2 });
    await deliveries.delivery('plain')!.drained();
    await waitFor(() => h.frames.length === 1, 'the record once allowed');
    expect((await registry.metrics()).match(insecure)?.[1]).toBe('1');
    // one warning per connection: HI2 and HI3 each have their own
    const logged = lines.filter((w) => w.level === 'warn' && /^insecure connection/.test(w.msg));
    expect(logged).toHaveLength(h.connections);
    expect(logged[0]!.fields).toEqual({ lemf: 'plain', transport: 'ETSI_TCP' });
    expect(h.connections).toBe(2);
  });
});
