// PacketCable 2.0 Call Content Connection (seed 000 `pkcable:` destinations; CableLabs
// PKT-SP-ES-DCI). Each intercepted media packet goes in one UDP datagram to the collection
// function: a 4-octet Call Content Connection Identifier, an 8-octet NTP timestamp (seconds since
// 1900, 32-bit binary fraction), then the intercepted packet. Checked with tshark's pkt_ccc
// (RTP content) and pcli12 (IP content) dissectors. No I/O here.
import { decodePsPdu } from '@li/etsi';

export const CCC_HEADER_BYTES = 12;
/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
const NTP_UNIX_OFFSET = 2_208_988_800;

/** The NTP timestamp of a time in microseconds since the Unix epoch. */
export function ntpTimestamp(micros: number): { seconds: number; fraction: number } {
  const whole = Math.floor(micros / 1_000_000);
  const rest = micros - whole * 1_000_000;
  // Fraction of a second in units of 2^-32; floor keeps it below 2^32.
  return { seconds: (whole + NTP_UNIX_OFFSET) >>> 0, fraction: Math.floor((rest * 2 ** 32) / 1_000_000) >>> 0 };
}

/** One CCC datagram: CCCID, timestamp, intercepted packet. */
export function encodeCcc(cccId: number, micros: number, packet: Uint8Array): Uint8Array {
  const out = new Uint8Array(CCC_HEADER_BYTES + packet.length);
  const v = new DataView(out.buffer);
  const ts = ntpTimestamp(micros);
  v.setUint32(0, cccId >>> 0);
  v.setUint32(4, ts.seconds);
  v.setUint32(8, ts.fraction);
  out.set(packet, CCC_HEADER_BYTES);
  return out;
}

export interface CccFrame {
  cccId: number;
  micros: number;
  packet: Uint8Array;
}

/** Reads a CCC datagram back (tests, and a collection function's view). Null when too short. */
export function decodeCcc(d: Uint8Array): CccFrame | null {
  if (d.length < CCC_HEADER_BYTES) return null;
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const seconds = v.getUint32(4) - NTP_UNIX_OFFSET;
  const micros = seconds * 1_000_000 + Math.round((v.getUint32(8) * 1_000_000) / 2 ** 32);
  return { cccId: v.getUint32(0), micros, packet: d.subarray(CCC_HEADER_BYTES) };
}

export type CccContent =
  | { ok: true; frames: CccFrame[] }
  | { ok: false; code: 'NOT_CONTENT' | 'UNDECODABLE' | 'NO_TIME'; reason: string };

/**
 * The content of one HI3 record (a TS 102 232 PS-PDU) as CCC frames: one per CC payload item,
 * the CCCID being the record's CIN (the CCOpen of the call names it), the time the item's or the
 * header's. IRI, TRI and other PDUs are not content: only media goes over the CCC.
 */
export function cccFramesOfPsPdu(bytes: Uint8Array): CccContent {
  const r = decodePsPdu(bytes);
  if (!r.ok) return { ok: false, code: 'UNDECODABLE', reason: r.reason };
  const { header, payload } = r.value;
  if (payload.kind !== 'cc') return { ok: false, code: 'NOT_CONTENT', reason: `payload ${payload.kind}` };
  const cin = header.communicationIdentifier.cin;
  if (cin === undefined) return { ok: false, code: 'UNDECODABLE', reason: 'no CIN' };
  const headerMicros =
    header.microSecondTimeStamp !== undefined
      ? header.microSecondTimeStamp.seconds * 1_000_000 + header.microSecondTimeStamp.microSeconds
      : header.timeStamp;
  const frames: CccFrame[] = [];
  for (const item of payload.items) {
    const micros =
      item.microSecondTimeStamp !== undefined
        ? item.microSecondTimeStamp.seconds * 1_000_000 + item.microSecondTimeStamp.microSeconds
        : (item.timeStamp ?? headerMicros);
    if (micros === undefined) return { ok: false, code: 'NO_TIME', reason: 'CC item without time' };
    const c = item.contents;
    let packet: Uint8Array;
    if (c.kind === 'iPMMCC') packet = c.value.mmccContents;
    else if (c.kind === 'iPCC')
      packet = c.value.contents.kind === 'iPPackets' ? c.value.contents.packets : c.value.contents.truncatedPacket;
    else return { ok: false, code: 'NOT_CONTENT', reason: `CC ${c.kind} is not media` };
    frames.push({ cccId: cin, micros, packet });
  }
  return { ok: true, frames };
}
