// PacketCable 2.0 CCC delivery (seed 000 `pkcable:`): the transport sends HI3 records as CCC
// datagrams to a UDP collection function run here; tshark's pkt_ccc and pcli12 dissectors read them.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '@li/core';
import {
  encodePsPdu,
  FRAME_TYPE,
  IRI_TYPE,
  ipAddressFromString,
  MMCC_PROTOCOL,
  PAYLOAD_DIRECTION,
  type PsPdu,
} from '@li/etsi';
import { SAMPLE_PACKET, samplePdu } from '@li/etsi/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { PacketCableCccTransport } from '../src/adapters/packetcable-transport.ts';
import type { DeliveryRecord } from '../src/domain/types.ts';
import { decodeCdcPdus, pcespNotRun } from './helpers/pcesp.ts';

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

// ---- Call Data Connection (signalling) ----------------------------------------------------------

const T0 = Date.UTC(2026, 10, 21, 22, 26, 40) * 1000;
const CALL = 'Call-ID: a84b4c76e66710@pc33.example.com\r\n';

function sipPdu(cin: number, seq: number, iriType: number, dir: number, sip: string, micros: number): PsPdu {
  const ip = (a: string) => ipAddressFromString(a, 0)!;
  return {
    header: {
      liid: 'LIID-PK-1',
      communicationIdentifier: { operatorIdentifier: 'ACME', networkElementIdentifier: 'sbc-east-01', cin },
      sequenceNumber: seq,
      timeStamp: micros,
    },
    payload: {
      kind: 'iri',
      items: [
        {
          iriType,
          sessionDirection: dir,
          timeStamp: micros,
          contents: {
            kind: 'iPMMIRI',
            value: {
              contents: {
                kind: 'sIPMessage',
                message: {
                  ipSourceAddress: ip('192.0.2.10'),
                  ipDestinationAddress: ip('192.0.2.20'),
                  sipContent: Buffer.from(sip, 'latin1'),
                },
              },
            },
          },
        },
      ],
    },
  };
}

const INVITE =
  'INVITE sip:+15551234567@example.com SIP/2.0\r\nFrom: "Alice" <sip:+15550001111@example.com>;tag=1\r\n' +
  `To: <sip:+15551234567@example.com>\r\n${CALL}CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
const OK =
  'SIP/2.0 200 OK\r\nFrom: "Alice" <sip:+15550001111@example.com>;tag=1\r\n' +
  `To: <sip:+15551234567@example.com>;tag=2\r\n${CALL}CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`;
const BYE =
  'BYE sip:+15551234567@192.0.2.20 SIP/2.0\r\nf: <sip:+15550001111@example.com>;tag=1\r\n' +
  `t: <sip:+15551234567@example.com>;tag=2\r\n${CALL}CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n`;
const INCOMING =
  'INVITE sip:bob@example.com SIP/2.0\r\nFrom: <sip:carol.long-name@elsewhere.example.org>;tag=9\r\n' +
  `To: <sip:bob@example.com>\r\nCall-ID: x@y\r\nCSeq: 7 INVITE\r\n\r\n`;

const tag = (xer: string, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xer)?.[1];

describe('PacketCable CDC (signalling)', () => {
  it('sends the SIP IRI as PCESP CdcPdu messages on TCP, CCOpen before the media, that asn1c decodes', async (ctx) => {
    const notRun = pcespNotRun('asn1c PCESP decoding of the CDC stream');
    const chunks: Buffer[] = [];
    const srv = createServer((s) => s.on('data', (d: Buffer) => chunks.push(d)));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const cdcPort = (srv.address() as { port: number }).port;
    const rx = createSocket('udp4');
    const got: Buffer[] = [];
    rx.on('message', (m) => got.push(m));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    const t = new PacketCableCccTransport({
      host: '127.0.0.1',
      port: rx.address().port,
      cdc: { host: '127.0.0.1', port: cdcPort },
      clock: systemClock,
    });
    t.start();
    const media = rtpPdu(7001);
    media.header.liid = 'LIID-PK-1';
    media.header.communicationIdentifier.networkElementIdentifier = 'sbc-east-01';
    const out = await t.send({
      records: [
        record(sipPdu(7001, 0, IRI_TYPE.begin, PAYLOAD_DIRECTION.fromTarget, INVITE, T0), 'HI2', 0),
        record(media, 'HI3', 1),
        record(media, 'HI3', 2),
        record(sipPdu(7001, 1, IRI_TYPE.continue, PAYLOAD_DIRECTION.toTarget, OK, T0 + 1_500_000), 'HI2', 3),
        record(sipPdu(7001, 2, IRI_TYPE.continue, PAYLOAD_DIRECTION.toTarget, OK, T0 + 1_600_000), 'HI2', 4),
        record(sipPdu(7001, 3, IRI_TYPE.end, PAYLOAD_DIRECTION.fromTarget, BYE, T0 + 9_000_000), 'HI2', 5),
        record(sipPdu(7002, 0, IRI_TYPE.begin, PAYLOAD_DIRECTION.toTarget, INCOMING, T0 + 10_000_000), 'HI2', 6),
      ],
      file: null,
    });
    expect(out).toEqual({ confirmed: 7, error: null });
    expect(t.cdcMessages).toBe(6);
    await t.close();
    for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    rx.close();
    await new Promise<void>((r) => srv.close(() => r()));
    expect(got).toHaveLength(2); // the media still goes over the CCC

    if (notRun) {
      ctx.annotate(notRun, 'not-run');
      return;
    }
    const pdus = decodeCdcPdus(Buffer.concat(chunks));
    // Origination, CCOpen (first media only), Answer (one, not per 200), CCClose, Release, TerminationAttempt.
    const kinds = pdus.map((x) => /<message>\s*<(\w+)>/.exec(x)?.[1]);
    expect(kinds).toEqual(['origination', 'ccopen', 'answer', 'ccclose', 'release', 'terminationattempt']);
    for (const x of pdus) {
      expect(x).toContain('<protocolVersion><io3/></protocolVersion>');
      expect(tag(x, 'caseId')).toBe('LIID-PK-1');
      expect(tag(x, 'accessingElementId')).toBe('sbc-east-01');
    }
    const [orig, open, answer, close, release, term] = pdus as [string, string, string, string, string, string];
    expect(tag(orig, 'eventTime')).toBe('20261121222640Z');
    expect(tag(orig, 'sequencenumber')).toBe('7001');
    expect(tag(orig, 'systemidentity')).toBe('sbc-east-01');
    expect(/<calling>\s*<dn>15550001111<\/dn>/.test(orig)).toBe(true);
    expect(/<called>\s*<dn>15551234567<\/dn>/.test(orig)).toBe(true);
    expect(tag(orig, 'userinput')).toBe('+15551234567@example.com');
    expect(tag(open, 'combCCC')).toBe('00001B59'); // CIN 7001, the CCCID of the call's CCC datagrams
    expect(tag(open, 'sequencenumber')).toBe('7001');
    expect(open).toContain('<flowDirection><downstream-and-upstream/></flowDirection>');
    expect(tag(answer, 'eventTime')).toBe('20261121222641.5Z');
    expect(/<answering>\s*<dn>15551234567<\/dn>/.test(answer)).toBe(true);
    expect(tag(close, 'combCCC')).toBe('00001B59');
    expect(tag(release, 'eventTime')).toBe('20261121222649Z');
    expect(tag(release, 'sequencenumber')).toBe('7001');
    expect(tag(term, 'sequencenumber')).toBe('7002');
    expect(tag(term, 'genericAddress')).toBe('carol.long-name'); // user@host is over PCESP's 32
    expect(/<called>\s*<genericAddress>bob@example.com<\/genericAddress>/.test(term)).toBe(true);
  });

  it('refuses an IRI PCESP cannot carry (not SIP) as a bad record, after the ones before it', async () => {
    const srv = createServer((s) => s.resume());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const cdcPort = (srv.address() as { port: number }).port;
    const t = new PacketCableCccTransport({
      host: '127.0.0.1',
      port: 9,
      cdc: { host: '127.0.0.1', port: cdcPort },
      clock: systemClock,
    });
    t.start();
    const out = await t.send({
      records: [
        record(sipPdu(8001, 0, IRI_TYPE.begin, PAYLOAD_DIRECTION.fromTarget, INVITE, T0), 'HI2', 0),
        record(samplePdu('ipIri'), 'HI2', 1),
      ],
      file: null,
    });
    expect(out).toMatchObject({ confirmed: 1, rejected: true, error: { code: 'DLV_ERR_BAD_RECORD' } });
    await t.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });

  it('connects the CDC again after the collection function closed it', async () => {
    const conns: Buffer[][] = [];
    const srv = createServer((s) => {
      const mine: Buffer[] = [];
      conns.push(mine);
      s.on('data', (d: Buffer) => {
        mine.push(d);
        if (conns.length === 1) s.destroy(); // the first connection is dropped after its first bytes
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const cdcPort = (srv.address() as { port: number }).port;
    const t = new PacketCableCccTransport({
      host: '127.0.0.1',
      port: 9,
      cdc: { host: '127.0.0.1', port: cdcPort },
      clock: systemClock,
    });
    t.start();
    const invite = (cin: number) =>
      record(sipPdu(cin, 0, IRI_TYPE.begin, PAYLOAD_DIRECTION.fromTarget, INVITE, T0), 'HI2');
    expect(await t.send({ records: [invite(9101)], file: null })).toEqual({ confirmed: 1, error: null });
    for (let i = 0; i < 100 && (conns[0]?.length ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 50)); // our side sees the close
    expect(await t.send({ records: [invite(9102)], file: null })).toEqual({ confirmed: 1, error: null });
    for (let i = 0; i < 100 && (conns[1]?.length ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(conns).toHaveLength(2);
    expect(Buffer.concat(conns[1] ?? []).includes(Buffer.from('9102'))).toBe(true);
    await t.close();
    await new Promise<void>((r) => srv.close(() => r()));
  });

  it('reports a CDC it cannot reach as a connect error, nothing confirmed', async () => {
    const t = new PacketCableCccTransport({
      host: '127.0.0.1',
      port: 9,
      cdc: { host: '127.0.0.1', port: 1 },
      clock: systemClock,
    });
    t.start();
    const out = await t.send({
      records: [record(sipPdu(9001, 0, IRI_TYPE.begin, PAYLOAD_DIRECTION.fromTarget, INVITE, T0), 'HI2', 0)],
      file: null,
    });
    expect(out).toMatchObject({ confirmed: 0, error: { code: 'DLV_ERR_CONNECT' } });
    await t.close();
  });
});
