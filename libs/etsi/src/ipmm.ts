// TS 102 232-5 IPMMIRI / IPMMCC. The IPMultimediaPDU module was not available; tags follow
// shared/notes/openli.md §4.4 (OpenLI's encoder) and are pinned by golden-byte tests.
import {
  type BerWriter,
  byTag,
  CONTEXT,
  children,
  choiceOf,
  expectConstructed,
  need,
  readOctets,
  readRelOid,
  readUint,
  type Tlv,
} from './ber.ts';
import { relOidBytes } from './ipaccess.ts';
import { decodeIpAddress, encodeIpAddress, type IpAddress } from './ipaddress.ts';

/**
 * {li-ps(5) iPMultimedia(5) version6(6) iRI(1)}: we write OpenLI's IPMMIRI/IPMMCC layout and OpenLI
 * names it version6. No IPMultimediaPDU text to check against (not version17, which LI-PS-PDU v43
 * imports). Per-LEA override: objId.
 */
export const IPMM_IRI_OBJ_ID: readonly number[] = [5, 5, 6, 1];
export const IPMM_CC_OBJ_ID: readonly number[] = [5, 5, 6, 2];

/**
 * frameType values used here: ipFrame for captured packets, rtpFrame for bare RTP (and RTCP),
 * udptlFrame for bare UDPTL (T.38). udptlFrame(6) is TS 102 232-5's FrameType value as we know it;
 * no module text here checks it.
 */
export const FRAME_TYPE = { ipFrame: 0, udpFrame: 1, rtpFrame: 2, udptlFrame: 6 } as const;
export const MMCC_PROTOCOL = { rtp: 0, msrp: 1, udptl: 2 } as const;

export interface SipMessage {
  ipSourceAddress: IpAddress;
  ipDestinationAddress: IpAddress;
  /** The complete SIP message as seen on the wire. */
  sipContent: Uint8Array;
}

export type IpmmIriContents =
  | { kind: 'sIPMessage'; message: SipMessage }
  /** An alternative this codec does not model, kept as the raw TLV for pass-through. */
  | { kind: 'other'; tag: number; raw: Uint8Array };

export interface IpmmIri {
  objId?: readonly number[];
  contents: IpmmIriContents;
}

export interface IpmmCc {
  objId?: readonly number[];
  mmccContents: Uint8Array;
  frameType: number;
  streamIdentifier?: Uint8Array;
  mmccProtocol?: number;
}

/** Encodes IPMMIRI as [tag] (IRIContents alternative iPMMIRI [11]). */
export function encodeIpmmIri(w: BerWriter, tag: number, v: IpmmIri): void {
  w.open(CONTEXT, tag);
  w.octets(CONTEXT, 0, relOidBytes(v.objId ?? IPMM_IRI_OBJ_ID));
  w.open(CONTEXT, 1); // IPMMIRIContents is a CHOICE: explicit wrapper
  const c = v.contents;
  if (c.kind === 'sIPMessage') {
    w.open(CONTEXT, 1);
    encodeIpAddress(w, 0, c.message.ipSourceAddress);
    encodeIpAddress(w, 1, c.message.ipDestinationAddress);
    w.octets(CONTEXT, 2, c.message.sipContent);
    w.end();
  } else {
    w.raw(c.raw);
  }
  w.end();
  w.end();
}

export function decodeIpmmIri(buf: Uint8Array, t: Tlv): IpmmIri {
  expectConstructed(t, 'IPMMIRI');
  const m = byTag(children(buf, t));
  const objId = readRelOid(buf, need(m, 0, 'iPMMIRIObjId', t));
  const alt = choiceOf(buf, need(m, 1, 'iPMMIRIContents', t), 'iPMMIRIContents');
  if (alt.num === 1 && alt.cls === CONTEXT) {
    expectConstructed(alt, 'sIPMessage');
    const f = byTag(children(buf, alt));
    return {
      objId,
      contents: {
        kind: 'sIPMessage',
        message: {
          ipSourceAddress: decodeIpAddress(buf, need(f, 0, 'ipSourceAddress', alt)),
          ipDestinationAddress: decodeIpAddress(buf, need(f, 1, 'ipDestinationAddress', alt)),
          sipContent: readOctets(buf, need(f, 2, 'sIPContent', alt)),
        },
      },
    };
  }
  return { objId, contents: { kind: 'other', tag: alt.num, raw: buf.subarray(alt.offset, alt.next) } };
}

/** Encodes IPMMCC as [tag] (CCContents alternative iPMMCC [12]). */
export function encodeIpmmCc(w: BerWriter, tag: number, v: IpmmCc): void {
  w.open(CONTEXT, tag);
  w.octets(CONTEXT, 0, relOidBytes(v.objId ?? IPMM_CC_OBJ_ID));
  w.octets(CONTEXT, 1, v.mmccContents);
  w.int(CONTEXT, 2, v.frameType);
  if (v.streamIdentifier !== undefined) w.octets(CONTEXT, 3, v.streamIdentifier);
  if (v.mmccProtocol !== undefined) w.int(CONTEXT, 4, v.mmccProtocol);
  w.end();
}

export function decodeIpmmCc(buf: Uint8Array, t: Tlv): IpmmCc {
  expectConstructed(t, 'IPMMCC');
  const m = byTag(children(buf, t));
  const out: IpmmCc = {
    objId: readRelOid(buf, need(m, 0, 'iPMMCCObjId', t)),
    mmccContents: readOctets(buf, need(m, 1, 'mMCCContents', t)),
    frameType: readUint(buf, need(m, 2, 'frameType', t), 255),
  };
  const s = m.get(3);
  if (s) out.streamIdentifier = readOctets(buf, s);
  const p = m.get(4);
  if (p) out.mmccProtocol = readUint(buf, p, 255);
  return out;
}
