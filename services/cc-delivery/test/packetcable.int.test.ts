// PacketCable 2.0 CCC delivery (seed 000 `pkcable:`): the transport sends HI3 records as CCC
// datagrams to a UDP collection function run here; tshark's pkt_ccc and pcli12 dissectors read them.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '@li/core';
import { encodePsPdu, FRAME_TYPE, MMCC_PROTOCOL, type PsPdu } from '@li/etsi';
import { SAMPLE_PACKET, samplePdu } from '@li/etsi/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { PacketCableCccTransport } from '../src/adapters/packetcable-transport.ts';
import type { DeliveryRecord } from '../src/domain/types.ts';

const RTP = Buffer.from('80080001000000a0123456780102030405060708', 'hex'); // V=2, PT 8 (PCMA), seq 1, ts 160
// SAMPLE_MICROS (…40.123456) in NTP's 2^-32 s units, as tshark prints it in UTC.
const TS_TEXT = 'Nov 21, 2026 22:26:40.123455999 UTC';
const dir = mkdtempSync(join(tmpdir(), 'li-pkcable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function record(pdu: PsPdu, stream: DeliveryRecord['stream'] = 'HI3', offset = 0): DeliveryRecord {
  return {
    lemfId: 'pk',
    liid: pdu.header.liid,
    cin: pdu.header.communicationIdentifier.cin ?? 0,
    seq: pdu.header.sequenceNumber,
    stream,
    bytes: encodePsPdu(pdu),
    source: { topic: 't', partition: 0, offset },
  };
}

function rtpPdu(cin: number): PsPdu {
  const pdu = samplePdu('ipmmCc', { communicationIdentifier: { operatorIdentifier: 'ACME', cin } });
  pdu.payload = {
    kind: 'cc',
    items: [
      {
        contents: {
          kind: 'iPMMCC',
          value: { mmccContents: RTP, frameType: FRAME_TYPE.rtpFrame, mmccProtocol: MMCC_PROTOCOL.rtp },
        },
      },
    ],
  };
  return pdu;
}

/** UDP datagrams wrapped in a pcap to `port` (text2pcap -u), dissected as `proto`. */
function tshark(datagrams: Buffer[], port: number, proto: string, fields: string[], extra: string[] = []): string[][] {
  const txt = join(dir, `${proto}.txt`);
  const pcap = join(dir, `${proto}.pcap`);
  writeFileSync(
    txt,
    datagrams.map((d) => `000000 ${[...d].map((b) => b.toString(16).padStart(2, '0')).join(' ')}\n`).join(''),
  );
  execFileSync('text2pcap', ['-q', '-u', `40000,${port}`, txt, pcap]);
  const args = ['-r', pcap, '-d', `udp.port==${port},${proto}`, ...extra, '-T', 'fields', '-E', 'separator=|'];
  for (const f of fields) args.push('-e', f);
  const out = execFileSync('tshark', args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, TZ: 'UTC' },
  });
  const bad = execFileSync('tshark', ['-r', pcap, '-d', `udp.port==${port},${proto}`, '-Y', '_ws.malformed'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  expect(bad.trim()).toBe('');
  return out
    .trim()
    .split('\n')
    .map((l) => l.split('|'));
}

describe('PacketCable CCC transport', () => {
  it('delivers HI3 media as CCC datagrams a UDP collection function receives and tshark reads', async () => {
    const rx = createSocket('udp4');
    const got: Buffer[] = [];
    rx.on('message', (m) => got.push(m));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    const port = rx.address().port;
    const t = new PacketCableCccTransport({ host: '127.0.0.1', port, clock: systemClock });
    t.start();
    const out = await t.send({
      records: [
        record(rtpPdu(4001), 'HI3', 0),
        record(samplePdu('ipCc', { communicationIdentifier: { operatorIdentifier: 'ACME', cin: 4002 } }), 'HI3', 1),
        record(samplePdu('ipmmIri'), 'HI2', 2),
      ],
      file: null,
    });
    // The two content records go; the IRI after them is refused (dead-lettered), not sent.
    expect(out).toMatchObject({ confirmed: 2, rejected: true, error: { code: 'DLV_ERR_BAD_RECORD' } });
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    await t.close();
    rx.close();
    expect(got).toHaveLength(2);

    const ccc = tshark([got[0] as Buffer], port, 'pkt_ccc', ['pkt_ccc.ccc_id', 'pkt_ccc.ts', 'frame.len']);
    expect(ccc[0]?.[0]).toBe('4001');
    expect(ccc[0]?.[1]).toBe(TS_TEXT);
    // IP content: pcli12 (CCCID, timestamp) hands the rest to the IP dissector (its payload decode-as).
    const ip = tshark(
      [got[1] as Buffer],
      port,
      'pcli12',
      ['pcli.cccid', 'pcli.timestamp', 'ip.src', 'ip.dst', 'udp.dstport'],
      ['-d', 'pcli.payload,ip'],
    );
    expect(ip[0]?.[0]).toBe('4002');
    expect(ip[0]?.[1]).toBe(TS_TEXT);
    // The outer IP/UDP is text2pcap's wrapper; the last occurrence is the intercepted packet's.
    const inner = (v: string | undefined) => v?.split(',').at(-1);
    expect(inner(ip[0]?.[2])).toBe('10.0.0.1');
    expect(inner(ip[0]?.[3])).toBe('10.0.0.2');
    expect(inner(ip[0]?.[4])).toBe('53');
    expect(
      Buffer.from(got[1] as Buffer)
        .subarray(12)
        .equals(SAMPLE_PACKET),
    ).toBe(true);
  });

  it('says not connected before start', async () => {
    const t = new PacketCableCccTransport({ host: '127.0.0.1', port: 9, clock: new ManualClock(0) });
    expect(await t.send({ records: [record(rtpPdu(1))], file: null })).toMatchObject({
      confirmed: 0,
      error: { code: 'DLV_ERR_NOT_CONNECTED' },
    });
  });
});
