import { encodePsPdu, FRAME_TYPE, MMCC_PROTOCOL } from '@li/etsi';
import { SAMPLE_MICROS, SAMPLE_PACKET, samplePdu } from '@li/etsi/testing';
import { describe, expect, it } from 'vitest';
import { CCC_HEADER_BYTES, cccFramesOfPsPdu, decodeCcc, encodeCcc, ntpTimestamp } from './packetcable.ts';

describe('PacketCable CCC header', () => {
  it('writes CCCID then an NTP timestamp (seconds since 1900, binary fraction) then the packet', () => {
    // 2025-10-05T00:51:12.5Z: NTP seconds 0xec8c3f80, half a second = 0x80000000
    const d = encodeCcc(7, 1_759_625_472_500_000, Uint8Array.of(0xde, 0xad));
    expect(Buffer.from(d).toString('hex')).toBe('00000007ec8c3f8080000000dead');
  });

  it('reads back what it wrote, to the microsecond', () => {
    const d = encodeCcc(0xfffffffe, 1_700_000_000_123_456, SAMPLE_PACKET);
    const f = decodeCcc(d);
    expect(f?.cccId).toBe(0xfffffffe);
    expect(f?.micros).toBe(1_700_000_000_123_456);
    expect(Buffer.from(f?.packet ?? []).equals(SAMPLE_PACKET)).toBe(true);
    expect(decodeCcc(d.subarray(0, CCC_HEADER_BYTES - 1))).toBeNull();
  });

  it('keeps the fraction below one second', () => {
    expect(ntpTimestamp(999_999).fraction).toBeLessThan(2 ** 32);
    expect(ntpTimestamp(0).seconds).toBe(2_208_988_800);
  });
});

describe('CCC frames of a PS-PDU', () => {
  it('takes the IP packet of an iPCC and the frame of an iPMMCC, CCCID = CIN', () => {
    for (const name of ['ipCc', 'ipmmCc'] as const) {
      const r = cccFramesOfPsPdu(
        encodePsPdu(samplePdu(name, { communicationIdentifier: { operatorIdentifier: 'ACME', cin: 42 } })),
      );
      expect(r.ok).toBe(true);
      if (!r.ok) continue;
      expect(r.frames).toHaveLength(1);
      expect(r.frames[0]?.cccId).toBe(42);
      expect(r.frames[0]?.micros).toBe(SAMPLE_MICROS);
      expect(Buffer.from(r.frames[0]?.packet ?? []).equals(SAMPLE_PACKET)).toBe(true);
    }
  });

  it('refuses IRI, e-mail content and undecodable bytes with a code', () => {
    const iri = cccFramesOfPsPdu(encodePsPdu(samplePdu('ipmmIri')));
    expect(iri).toMatchObject({ ok: false, code: 'NOT_CONTENT' });
    expect(cccFramesOfPsPdu(encodePsPdu(samplePdu('emailCc')))).toMatchObject({ ok: false, code: 'NOT_CONTENT' });
    expect(cccFramesOfPsPdu(Uint8Array.of(0x30, 0x05, 0x01))).toMatchObject({ ok: false, code: 'UNDECODABLE' });
  });

  it('uses the item time before the header time', () => {
    const pdu = samplePdu('ipmmCc');
    pdu.payload = {
      kind: 'cc',
      items: [
        {
          timeStamp: SAMPLE_MICROS + 5,
          contents: {
            kind: 'iPMMCC',
            value: {
              mmccContents: Uint8Array.of(0x80, 0),
              frameType: FRAME_TYPE.rtpFrame,
              mmccProtocol: MMCC_PROTOCOL.rtp,
            },
          },
        },
      ],
    };
    const r = cccFramesOfPsPdu(encodePsPdu(pdu));
    expect(r.ok && r.frames[0]?.micros).toBe(SAMPLE_MICROS + 5);
  });
});
