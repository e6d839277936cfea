// IPCC (TS 102 232-3) for messaging that ingest decodes from the wire (MSNP, seed 002).
//
// What the event carries, and so what the CC can truthfully contain: ingest's MSNP decoder sits
// behind TCP reassembly and never sees packets (services/ingest/src/domain/stream.ts), so an
// msnp.* event has the flow's addresses and ports (network), the direction the message travelled
// (attribute msnpDirection), and the MSG payload octets exactly as captured (content: the MIME
// headers and body that followed the "MSG ..." command line). It does not have the captured IP
// packets, their TCP sequence numbers, IP ids, TTLs or options, nor the command line itself.
//
// IPCC's iPPackets carries IP packets, so the encoder rebuilds them from that: one IPv4 (or IPv6)
// + TCP packet per up to 1460 octets of the MSG payload, addressed and ported as captured, in the
// direction the message travelled. These fields are NOT from the wire and are fixed so a LEMF can
// tell: IP id 0, DF set, TTL / hop limit 64, TCP sequence number = offset of the segment in the
// MSG payload (starting at 0), acknowledgement number 0, flags PSH|ACK, window 65535, no options.
// Checksums are computed over these rebuilt packets. The TCP payload octets are the captured MSG
// payload octets, unchanged.
import { ipAddressFromString } from '@li/etsi';
import type { NormalizedEvent } from '@li/schemas';

/** Content type ingest gives MSNP message payloads (services/ingest/src/domain/msnp/msnp.ts). */
const MSNP_MESSAGE_CONTENT_TYPE = 'application/x-msnp-msg';

/** Largest TCP payload per rebuilt packet (a 1500-octet Ethernet MTU minus IPv4 and TCP headers). */
const REBUILT_MSS = 1460;

const TTL = 64;
const TCP = 6;

/** An MSNP message with its payload and a TCP flow: the encoder can rebuild its packets. */
export function isMsnpMessage(e: NormalizedEvent): boolean {
  return (
    e.protocol.toUpperCase() === 'MSNP' &&
    e.contentType === MSNP_MESSAGE_CONTENT_TYPE &&
    !!e.content &&
    e.content.length > 0 &&
    e.network?.transport === 'tcp'
  );
}

/**
 * Which way the message went on the flow (network src is the client). ingest sets msnpDirection;
 * events from before that attribute tell by their MSG arguments: a client's MSG has an
 * acknowledgement type (ackType), a server's names the sender (senderDisplayName).
 */
function msnpDirection(e: NormalizedEvent): 'toServer' | 'toClient' {
  const d = e.attributes.msnpDirection;
  if (d === 'toServer' || d === 'toClient') return d;
  if (e.attributes.ackType !== undefined) return 'toServer';
  return 'toClient';
}

function sum16(buf: Uint8Array, start: number, end: number, acc: number): number {
  let s = acc;
  for (let i = start; i + 1 < end; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if ((end - start) % 2 === 1) s += buf[end - 1]! << 8;
  return s;
}

function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 0x10000);
  return ~x & 0xffff;
}

function tcpSegment(srcPort: number, dstPort: number, seq: number, payload: Uint8Array): Buffer {
  const seg = Buffer.alloc(20 + payload.length);
  seg.writeUInt16BE(srcPort, 0);
  seg.writeUInt16BE(dstPort, 2);
  seg.writeUInt32BE(seq >>> 0, 4);
  seg.writeUInt32BE(0, 8); // ack number: not known
  seg[12] = 5 << 4; // data offset 5 words, no options
  seg[13] = 0x18; // PSH | ACK
  seg.writeUInt16BE(0xffff, 14); // window
  seg.set(payload, 20);
  return seg;
}

/**
 * Rebuilds the IP packets of one message (see the file comment for which fields are not from
 * the wire). Returns [] when an address is not an IP address or a port is out of range.
 */
function rebuildTcpPackets(
  src: { address: string; port: number },
  dst: { address: string; port: number },
  payload: Uint8Array,
  mss = REBUILT_MSS,
): Buffer[] {
  const s = ipAddressFromString(src.address);
  const d = ipAddressFromString(dst.address);
  if (!s || !d || s.type !== d.type || s.value.kind !== 'binary' || d.value.kind !== 'binary') return [];
  const okPort = (p: number) => Number.isInteger(p) && p >= 0 && p <= 0xffff;
  if (!okPort(src.port) || !okPort(dst.port)) return [];
  const sb = s.value.bytes;
  const db = d.value.bytes;
  const v6 = s.type === 1;
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += mss) {
    const seg = tcpSegment(src.port, dst.port, off, payload.subarray(off, Math.min(payload.length, off + mss)));
    // Pseudo-header: addresses, protocol and TCP length (RFC 793 / RFC 8200 §8.1).
    let acc = sum16(sb, 0, sb.length, 0);
    acc = sum16(db, 0, db.length, acc);
    acc += TCP + seg.length;
    seg.writeUInt16BE(fold(sum16(seg, 0, seg.length, acc)), 16);
    let ip: Buffer;
    if (v6) {
      ip = Buffer.alloc(40);
      ip.writeUInt32BE(0x6000_0000, 0); // version 6, traffic class 0, flow label 0
      ip.writeUInt16BE(seg.length, 4);
      ip[6] = TCP;
      ip[7] = TTL;
      ip.set(sb, 8);
      ip.set(db, 24);
    } else {
      ip = Buffer.alloc(20);
      ip[0] = 0x45;
      ip.writeUInt16BE(20 + seg.length, 2);
      ip.writeUInt16BE(0x4000, 6); // DF, no fragment offset; id 0
      ip[8] = TTL;
      ip[9] = TCP;
      ip.set(sb, 12);
      ip.set(db, 16);
      ip.writeUInt16BE(fold(sum16(ip, 0, 20, 0)), 10);
    }
    out.push(Buffer.concat([ip, seg]));
  }
  return out;
}

/** The rebuilt packets of an MSNP message event, in the direction it travelled. */
export function msnpPackets(e: NormalizedEvent): Buffer[] {
  if (!isMsnpMessage(e) || !e.network) return [];
  const client = { address: e.network.srcAddress, port: e.network.srcPort };
  const server = { address: e.network.dstAddress, port: e.network.dstPort };
  const [src, dst] = msnpDirection(e) === 'toServer' ? [client, server] : [server, client];
  return rebuildTcpPackets(src, dst, e.content!);
}
