import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pduToEvent } from './event.ts';
import { X2X3Framer } from './framer.ts';
import { ATTR, attr, decodePdu, encodePdu, keepalive, keepaliveAck, PDU_TYPE, type Tlv } from './pdu.ts';

// X2X3.md §7 worked example (TS 103 221-2 field layout): header part before the payload.
const WORKED_HEADER =
  '0005000100000065' +
  '0000000e00090003' +
  '29f28e1cf230486aa860f5a784ab9172' +
  '0000000000000042' +
  '0008000400000007' +
  '000900086553f1001dcd6500' +
  '00110025' +
  Buffer.from('<e164Number>393331234567</e164Number>').toString('hex');

const XID = '29f28e1c-f230-486a-a860-f5a784ab9172';

function worked(payload = Buffer.from('INVITE x SIP/2')): Buffer {
  return encodePdu({
    pduType: PDU_TYPE.X2,
    payloadFormat: 9,
    payloadDirection: 3,
    xid: XID,
    correlationId: 0x42n,
    attributes: [
      attr.sequenceNumber(7),
      attr.timestamp(1700000000, 500000000),
      attr.text(ATTR.MATCHED_TARGET, '<e164Number>393331234567</e164Number>'),
    ],
    payload,
  });
}

describe('X2/X3 PDU codec', () => {
  it('encodes the worked example byte for byte and decodes every field back', () => {
    const bytes = worked();
    expect(bytes.subarray(0, 101).toString('hex')).toBe(WORKED_HEADER);
    const d = decodePdu(bytes);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.pdu).toMatchObject({
      version: 5,
      pduType: 1,
      payloadFormat: 9,
      payloadDirection: 3,
      xid: XID,
      correlationId: 0x42n,
    });
    expect(d.attrs).toMatchObject({ sequenceNumber: 7, timestamp: { seconds: 1700000000, nanoseconds: 500000000 } });
    expect(d.attrs.matchedTargets).toEqual(['<e164Number>393331234567</e164Number>']);
    expect(d.pdu.payload.toString()).toBe('INVITE x SIP/2');
    expect(encodePdu(d.pdu)).toEqual(bytes);
  });

  it('decodes all conditional attributes', () => {
    const attrs: Tlv[] = [
      { type: ATTR.DOMAIN_ID, value: Buffer.from('did-1') },
      attr.text(ATTR.NFID, 'nf-1'),
      attr.text(ATTR.IPID, 'ip-1'),
      attr.ipv4(ATTR.SOURCE_IPV4, '192.0.2.1'),
      attr.ipv4(ATTR.DESTINATION_IPV4, '198.51.100.2'),
      { type: ATTR.SOURCE_IPV6, value: Buffer.from('20010db8000000000000000000000001', 'hex') },
      attr.u16(ATTR.SOURCE_PORT, 5060),
      attr.u16(ATTR.DESTINATION_PORT, 5061),
      attr.u8(ATTR.IP_PROTOCOL, 17),
      attr.text(ATTR.OTHER_TARGET, '<sipURI>sip:a@b</sipURI>'),
      attr.text(ATTR.MIME_CONTENT_TYPE, 'message/rfc822'),
      attr.text(ATTR.MIME_TRANSFER_ENCODING, '8bit'),
      { type: ATTR.AXRI, value: Buffer.alloc(16, 1) },
      attr.text(ATTR.SDP, 'v=0'),
      { type: ATTR.ETSI_102232, value: Buffer.from([0x30, 0]) },
      { type: ATTR.TGPP_33128, value: Buffer.from([1]) },
      { type: ATTR.TGPP_33108, value: Buffer.from([2]) },
      { type: ATTR.PROPRIETARY, value: Buffer.from([3]) },
      { type: 999, value: Buffer.from('future') },
    ];
    const d = decodePdu(encodePdu({ pduType: 1, payloadFormat: 15, payloadDirection: 2, xid: XID, attributes: attrs }));
    expect(d.ok && d.attrs).toMatchObject({
      domainId: Buffer.from('did-1'),
      nfid: 'nf-1',
      ipid: 'ip-1',
      sourceAddress: '2001:db8::1',
      destinationAddress: '198.51.100.2',
      sourcePort: 5060,
      destinationPort: 5061,
      ipProtocol: 17,
      otherTargets: ['<sipURI>sip:a@b</sipURI>'],
      mimeContentType: 'message/rfc822',
      mimeTransferEncoding: '8bit',
      sdp: 'v=0',
      unknown: [{ type: 999, value: Buffer.from('future') }],
    });
  });

  it('rejects malformed PDUs with a typed reason', () => {
    const good = worked();
    const cases: Array<[Buffer, string]> = [
      [good.subarray(0, 30), 'ING_ERR_X2X3_SHORT'],
      [Buffer.concat([Buffer.from([1, 0]), good.subarray(2)]), 'ING_ERR_X2X3_VERSION'],
      [encodePdu({ pduType: 7, payloadFormat: 9, payloadDirection: 1 }), 'ING_ERR_X2X3_PDU_TYPE'],
      [encodePdu({ pduType: 1, payloadFormat: 8, payloadDirection: 1 }), 'ING_ERR_X2X3_PAYLOAD_FORMAT'],
      [encodePdu({ pduType: 2, payloadFormat: 9, payloadDirection: 1 }), 'ING_ERR_X2X3_PAYLOAD_FORMAT'],
      [encodePdu({ pduType: 1, payloadFormat: 9, payloadDirection: 9 }), 'ING_ERR_X2X3_PAYLOAD_DIRECTION'],
      [
        encodePdu({
          pduType: 1,
          payloadFormat: 9,
          payloadDirection: 1,
          attributes: [{ type: 8, value: Buffer.from([1, 2]) }],
        }),
        'ING_ERR_X2X3_ATTRIBUTE',
      ],
      [encodePdu({ pduType: 3, payload: Buffer.from('x') }), 'ING_ERR_X2X3_KEEPALIVE'],
    ];
    const overrun = Buffer.from(good);
    overrun.writeUInt16BE(200, 42); // first TLV length runs past the header
    cases.push([overrun, 'ING_ERR_X2X3_ATTRIBUTE']);
    for (const [bytes, code] of cases) expect(decodePdu(bytes)).toMatchObject({ ok: false, code });
  });

  it('answers a keepalive with an ack echoing its sequence number', () => {
    const ka = decodePdu(keepalive(77));
    expect(ka.ok).toBe(true);
    if (!ka.ok) return;
    const ack = keepaliveAck(ka.pdu);
    expect(ack.toString('hex')).toBe(
      '000500040000003000000000000000000000000000000000000000000000000000000000000000000008000400' + '00004d',
    );
  });

  it('maps XID to task and the PDU to an event; unknown XIDs are refused', () => {
    const d = decodePdu(worked());
    if (!d.ok) throw new Error('decode');
    const mapped = pduToEvent(d.pdu, d.attrs, (xid) => (xid === XID ? { taskId: 'task-9' } : null), 1);
    expect(mapped.ok && mapped.event).toMatchObject({
      category: 'SIGNALS',
      action: 'x2.sip',
      protocol: 'x2',
      occurredAtMicros: 1700000000_500000,
      communicationId: `x2x3:${XID}:66`,
      parties: [{ role: 'ACCOUNT', type: 'E164', value: '393331234567' }],
      attributes: { taskId: 'task-9', sequenceNumber: '7', payloadDirection: '3' },
      contentType: 'message/sip',
    });
    expect(pduToEvent(d.pdu, d.attrs, () => null, 1)).toMatchObject({ ok: false, code: 'ING_ERR_X2X3_UNKNOWN_XID' });
  });

  it('an X2 SIP payload gives the method or status and Call-ID; without correlation the Call-ID keys the call', () => {
    const invite = Buffer.from(
      'INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: call-7@pbx\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n',
    );
    const ok = Buffer.from('SIP/2.0 200 OK\r\nCall-ID: call-7@pbx\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n');
    const lookup = () => ({ taskId: 'task-9' });
    const event = (payload: Buffer, correlationId: bigint) => {
      const d = decodePdu(
        encodePdu({ pduType: PDU_TYPE.X2, payloadFormat: 9, payloadDirection: 3, xid: XID, correlationId, payload }),
      );
      if (!d.ok) throw new Error('decode');
      const r = pduToEvent(d.pdu, d.attrs, lookup, 1);
      if (!r.ok) throw new Error(r.reason);
      return r.event;
    };
    expect(event(invite, 0x42n)).toMatchObject({
      action: 'x2.sip',
      communicationId: `x2x3:${XID}:66`,
      attributes: { method: 'INVITE', 'call-id': 'call-7@pbx', 'request-uri': 'sip:bob@example.com', xid: XID },
    });
    const answer = event(ok, 0n);
    expect(answer.communicationId).toBe(`x2x3:${XID}:sip:call-7@pbx`);
    expect(answer.attributes).toMatchObject({ status: '200', method: 'BYE', 'call-id': 'call-7@pbx' });
    // Not SIP: the X2 attributes only.
    expect(event(Buffer.from('garbage'), 0n).attributes.method).toBeUndefined();
  });

  it('frames a stream cut anywhere, skipping a malformed PDU and keeping the rest', () => {
    const bad = encodePdu({ pduType: 1, payloadFormat: 8, payloadDirection: 1, payload: Buffer.from('rtp') });
    const stream = Buffer.concat([worked(), keepalive(1), bad, worked(Buffer.from('second'))]);
    fc.assert(
      fc.property(fc.array(fc.nat(stream.length), { maxLength: 10 }), (cuts) => {
        const framer = new X2X3Framer();
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const out = [];
        let prev = 0;
        for (const c of [...points, stream.length]) {
          out.push(...framer.push(stream.subarray(prev, c)));
          prev = c;
        }
        expect(out.map((e) => (e.kind === 'pdu' ? e.pdu.pduType : e.code))).toEqual([
          1,
          3,
          'ING_ERR_X2X3_PAYLOAD_FORMAT',
          1,
        ]);
        expect(framer.buffered).toBe(0);
      }),
    );
  });

  it('joins a large PDU from many small segments', () => {
    const big = worked(Buffer.alloc(4 * 1024 * 1024, 0x61));
    const f = new X2X3Framer();
    const out = [];
    for (let i = 0; i < big.length; i += 1460) out.push(...f.push(big.subarray(i, i + 1460)));
    expect(out).toHaveLength(1);
    expect(out[0]?.kind === 'pdu' && out[0].pdu.payload.length).toBe(4 * 1024 * 1024);
  });

  it('closes on unusable lengths and bounds what it buffers', () => {
    const f = new X2X3Framer(1000);
    const huge = Buffer.alloc(12);
    huge.writeUInt16BE(5, 0);
    huge.writeUInt32BE(40, 4);
    huge.writeUInt32BE(5000, 8);
    expect(f.push(huge)).toMatchObject([{ kind: 'problem', code: 'ING_ERR_X2X3_TOO_LARGE', fatal: true }]);
    expect(f.push(worked())).toEqual([]);
    const g = new X2X3Framer();
    const short = Buffer.alloc(12);
    short.writeUInt32BE(12, 4);
    expect(g.push(short)).toMatchObject([{ kind: 'problem', code: 'ING_ERR_X2X3_HEADER_LENGTH', fatal: true }]);
  });

  it('never throws on random or mutated input', () => {
    const base = Buffer.concat([worked(), keepalive(5)]);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }),
        (random, mutations) => {
          decodePdu(Buffer.from(random));
          const m = Buffer.from(base);
          for (const [at, v] of mutations) m[at] = v;
          const f = new X2X3Framer(4096);
          f.push(m);
          f.push(Buffer.from(random));
          expect(f.buffered).toBeLessThanOrEqual(4096 + 400);
        },
      ),
      { numRuns: 500 },
    );
  });
});
