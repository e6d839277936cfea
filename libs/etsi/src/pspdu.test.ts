import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readTlv } from './ber.ts';
import { ipAddressFromString } from './ipaddress.ts';
import {
  encodeKeepalive,
  encodeKeepaliveResponse,
  encodePduAckRequest,
  encodePduAckResponse,
  headerTime,
  isKeepalive,
  isKeepaliveResponse,
} from './keepalive.ts';
import { decodePsPdu, encodePsPdu, type Payload, type PsPdu, pduLength } from './pspdu.ts';
import { splitContent } from './segment.ts';
import { SAMPLE_PAYLOADS, type SamplePayloadName, sampleHeader, samplePdu } from './testing.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The payload [2] TLV of an encoded PDU. */
function payloadBytes(pdu: Buffer): string {
  const outer = readTlv(pdu, 0, pdu.length);
  const header = readTlv(pdu, outer.start, outer.end);
  return hex(pdu.subarray(header.next, outer.end));
}

function withPayload(payload: Payload): PsPdu {
  return { header: sampleHeader(), payload };
}

describe('PS-PDU round trip', () => {
  it.each(Object.keys(SAMPLE_PAYLOADS) as SamplePayloadName[])('%s', (name) => {
    const pdu = samplePdu(name);
    const bytes = encodePsPdu(pdu);
    const r = decodePsPdu(bytes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.bytesRead).toBe(bytes.length);
    // Decoding fills in the default object identifiers; re-encoding gives the same bytes.
    expect(encodePsPdu(r.value).equals(bytes)).toBe(true);
    expect(r.value.header).toEqual({ domainId: [0, 4, 0, 2, 2, 5, 1, 43], ...pdu.header });
  });

  it('eTSI671IRI carries a TS 101 671 record inside a PS-PDU', () => {
    const pdu = withPayload({
      kind: 'iri',
      items: [
        {
          iriType: 1,
          contents: {
            kind: 'eTSI671IRI',
            value: {
              kind: 'iRIParameters',
              params: {
                domainId: [0, 4, 0, 2, 2, 1, 11],
                liid: 'LIID0001',
                communicationIdentifier: { cin: '42', operatorIdentifier: 'ACME' },
                timeStamp: { kind: 'utcTime', micros: 1_795_300_000_000_000 },
              },
            },
          },
        },
      ],
    });
    const r = decodePsPdu(encodePsPdu(pdu));
    expect(r.ok && r.value.payload).toEqual(pdu.payload);
  });

  it('re-encodes the spec examples byte for byte', () => {
    const dir = fileURLToPath(new URL('./__fixtures__/', import.meta.url));
    for (const f of ['pspdu_ipiri.ber', 'pspdu_ipcc.ber', 'pspdu_keepalive.ber']) {
      const b = readFileSync(dir + f);
      const r = decodePsPdu(b);
      expect(r.ok, f).toBe(true);
      if (r.ok) expect(hex(encodePsPdu(r.value))).toBe(hex(b));
    }
  });

  it('walks a stream of concatenated PDUs with bytesRead', () => {
    const names: SamplePayloadName[] = ['ipIri', 'ipCc', 'keepAlive'];
    const stream = Buffer.concat(names.map((n, i) => encodePsPdu(samplePdu(n, { sequenceNumber: i }))));
    const seen: number[] = [];
    for (let off = 0; off < stream.length; ) {
      const r = decodePsPdu(stream.subarray(off));
      if (!r.ok) throw new Error(r.reason);
      seen.push(r.value.header.sequenceNumber);
      off += r.bytesRead;
    }
    expect(seen).toEqual([0, 1, 2]);
  });
});

describe('golden bytes (tag tables of MAIL.md and openli.md §4.4-4.5)', () => {
  it('TRI keep-alive payload is A2 04 A2 02 83 00', () => {
    expect(payloadBytes(encodePsPdu(samplePdu('keepAlive')))).toBe('a204a2028300');
    expect(payloadBytes(encodePsPdu(samplePdu('keepAliveResponse')))).toBe('a204a2028400');
  });

  it('EmailIRI send', () => {
    const bytes = encodePsPdu(
      withPayload({
        kind: 'iri',
        items: [
          {
            iriType: 3,
            contents: {
              kind: 'emailIRI',
              value: {
                eventType: 1,
                clientAddress: ipAddressFromString('198.51.100.7')!,
                clientPort: 25,
                protocolId: 1,
                sender: 'a@b',
                recipients: ['c@d', 'e@f'],
                status: 3,
                messageId: '<m>',
              },
            },
          },
        ],
      }),
    );
    expect(payloadBytes(bytes)).toBe(
      'a240a03e303c800103a237a135' +
        '800405020f01' + // emailIRIObjId 5.2.15.1
        '810101' + // eMailEvent send
        'a20b810100a2068104c6336407' + // client-Address IPv4 binary
        '840119' + // client-Port 25
        '880101' + // protocol-ID smtp
        '8903614062' + // e-mail-Sender
        'aa0a0c036340640c03654066' + // e-mail-Recipients SEQUENCE OF UTF8String
        '8b0103' + // status succeeded
        '8d033c6d3e', // message-ID
    );
  });

  it('EmailCC application content', () => {
    const bytes = encodePsPdu(
      withPayload({
        kind: 'cc',
        items: [
          { payloadDirection: 1, contents: { kind: 'emailCC', value: { format: 2, content: Buffer.from('hi') } } },
        ],
      }),
    );
    expect(payloadBytes(bytes)).toBe('a218a1163014800101a20fa10d800405020f028101028202' + '6869');
  });

  it('IPMMIRI with a SIP message', () => {
    const bytes = encodePsPdu(
      withPayload({
        kind: 'iri',
        items: [
          {
            iriType: 1,
            contents: {
              kind: 'iPMMIRI',
              value: {
                contents: {
                  kind: 'sIPMessage',
                  message: {
                    ipSourceAddress: ipAddressFromString('10.0.0.1')!,
                    ipDestinationAddress: ipAddressFromString('10.0.0.2')!,
                    sipContent: Buffer.from('SIP'),
                  },
                },
              },
            },
          },
        ],
      }),
    );
    expect(payloadBytes(bytes)).toBe(
      'a234a0323030800101a22bab29' +
        '800405050601' + // iPMMIRIObjId 5.5.6.1
        'a121a11f' + // iPMMIRIContents (CHOICE) -> sIPMessage [1]
        'a00b810100a20681040a000001' + // ipSourceAddress
        'a10b810100a20681040a000002' + // ipDestinationAddress
        '8203534950', // sIPContent
    );
  });

  it('IPMMCC with an RTP frame', () => {
    const bytes = encodePsPdu(
      withPayload({
        kind: 'cc',
        items: [
          {
            payloadDirection: 0,
            contents: { kind: 'iPMMCC', value: { mmccContents: Buffer.from('RTP'), frameType: 2, mmccProtocol: 0 } },
          },
        ],
      }),
    );
    expect(payloadBytes(bytes)).toBe(
      'a21ca11a3018800100a213ac11' + '800405050602' + '8103525450' + '820102' + '840100',
    );
  });
});

describe('bad input gives a typed failure, never an exception', () => {
  it.each([
    ['empty', ''],
    ['not a SEQUENCE', '0400'],
    ['truncated', '3081ad'],
    ['missing payload', '3000'],
    ['wrong CHOICE', '3006a100a202a000'],
  ])('%s', (_name, h) => {
    const r = decodePsPdu(Buffer.from(h, 'hex'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toMatch(/^ETSI_ERR_/);
  });

  it('rejects out-of-range values on encode with ETSI_ERR_INVALID_VALUE', () => {
    const bad: PsPdu[] = [
      samplePdu('keepAlive', { liid: '' }),
      samplePdu('keepAlive', { liid: 'X'.repeat(26) }),
      samplePdu('keepAlive', { authorizationCountryCode: 'ITA' }),
      samplePdu('keepAlive', { sequenceNumber: 2 ** 32 }),
      samplePdu('keepAlive', { sequenceNumber: -1 }),
      samplePdu('keepAlive', { liid: 'LIID-€' }),
    ];
    for (const p of bad)
      expect(() => encodePsPdu(p)).toThrow(expect.objectContaining({ code: 'ETSI_ERR_INVALID_VALUE' }));
  });

  it('pduLength frames a TCP stream', () => {
    const b = encodePsPdu(samplePdu('ipCc'));
    expect(pduLength(b.subarray(0, 1))).toEqual({ ok: true, length: undefined });
    expect(pduLength(b.subarray(0, 10))).toEqual({ ok: true, length: undefined });
    expect(pduLength(Buffer.concat([b, b]))).toEqual({ ok: true, length: b.length });
    expect(pduLength(Buffer.from('30ff', 'hex')).ok).toBe(false);
  });
});

describe('keep-alive helpers', () => {
  const opts = { operatorIdentifier: 'ACME', sequenceNumber: 41, timeMicros: 1_795_300_000_000_000 } as const;

  it('encodes a keep-alive and recognises the matching response', () => {
    const ka = encodeKeepalive({ ...opts, timestampFormat: 'MICROSECOND' });
    expect(isKeepalive(ka)).toBe(true);
    expect(isKeepaliveResponse(ka)).toBe(false);
    const r = decodePsPdu(ka);
    expect(r.ok && r.value.header).toMatchObject({
      liid: '-',
      sequenceNumber: 41,
      microSecondTimeStamp: { seconds: 1_795_300_000 },
    });
    const resp = encodeKeepaliveResponse({ ...opts, timestampFormat: 'GENERALIZED_TIME' });
    expect(isKeepaliveResponse(resp)).toBe(true);
    expect(isKeepaliveResponse(resp, 41)).toBe(true);
    expect(isKeepaliveResponse(resp, 42)).toBe(false);
    expect(isKeepaliveResponse(Buffer.from('garbage'))).toBe(false);
  });

  it('PDU acknowledgement request and response name the data PDU by LIID, CIN and sequence number', () => {
    const named = { ...opts, liid: 'LIID-7', cin: 9, sequenceNumber: 1234, timestampFormat: 'MICROSECOND' } as const;
    for (const [pdu, kind] of [
      [encodePduAckRequest(named), 'pDUAcknowledgementRequest'],
      [encodePduAckResponse(named), 'pDUAcknowledgementResponse'],
    ] as const) {
      const r = decodePsPdu(pdu);
      expect(r.ok && r.value.payload).toEqual({ kind: 'tri', tri: { kind } });
      expect(r.ok && r.value.header).toMatchObject({
        liid: 'LIID-7',
        communicationIdentifier: { cin: 9 },
        sequenceNumber: 1234,
      });
    }
    expect(encodePduAckRequest(named).subarray(-6).toString('hex')).toBe('a204a2028c00');
  });

  it('headerTime follows the LEA timestamp format', () => {
    expect(headerTime(1_000_001, 'GENERALIZED_TIME')).toEqual({ timeStamp: 1_000_001, timeStampQualifier: 1 });
    expect(headerTime(1_000_001, 'MICROSECOND')).toEqual({
      microSecondTimeStamp: { seconds: 1, microSeconds: 1 },
      timeStampQualifier: 1,
    });
  });
});

describe('segmentation', () => {
  it('splits content into views of at most max octets', () => {
    const c = Buffer.alloc(150_001, 1);
    const parts = splitContent(c, 64_000);
    expect(parts.map((p) => p.length)).toEqual([64_000, 64_000, 22_001]);
    expect(Buffer.concat(parts).equals(c)).toBe(true);
    expect(splitContent(Buffer.alloc(10))).toHaveLength(1);
    expect(() => splitContent(c, 0)).toThrow(RangeError);
  });
});
