// Link layer, IPv4/IPv6 and UDP/TCP header parsing. Pure functions over Buffers that return
// a result with a reason instead of throwing: captured traffic is hostile by nature.
import type { IngestErrorCode } from '../../errors.ts';
import { LINKTYPE } from './pcap.ts';

export type Fail = { ok: false; code: IngestErrorCode; reason: string };
const fail = (code: IngestErrorCode, reason: string): Fail => ({ ok: false, code, reason });

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;

export type LinkResult = { ok: true; ip: Buffer } | { ok: true; ip: null; skipped: string } | Fail;

/** Strips the link-layer header and returns the IP packet (ip null for non-IP frames, which are skipped). */
export function decodeLink(linkType: number, d: Buffer): LinkResult {
  let off: number;
  let etherType: number;
  switch (linkType) {
    case LINKTYPE.ETHERNET: {
      if (d.length < 14) return fail('ING_ERR_LINK_SHORT', 'ethernet frame shorter than its header');
      off = 14;
      etherType = d.readUInt16BE(12);
      break;
    }
    case LINKTYPE.LINUX_SLL: {
      // Linux cooked v1: 16-byte header, protocol type in the last two bytes.
      if (d.length < 16) return fail('ING_ERR_LINK_SHORT', 'SLL header truncated');
      off = 16;
      etherType = d.readUInt16BE(14);
      break;
    }
    case LINKTYPE.LINUX_SLL2: {
      // Linux cooked v2: 20-byte header, protocol type first.
      if (d.length < 20) return fail('ING_ERR_LINK_SHORT', 'SLL2 header truncated');
      off = 20;
      etherType = d.readUInt16BE(0);
      break;
    }
    case LINKTYPE.NULL: {
      // BSD loopback: 4-byte address family in host byte order.
      if (d.length < 4) return fail('ING_ERR_LINK_SHORT', 'loopback header truncated');
      const af = d.readUInt32LE(0) > 0xffff ? d.readUInt32BE(0) : d.readUInt32LE(0);
      if (af === 2) return { ok: true, ip: d.subarray(4) };
      if (af === 10 || af === 24 || af === 28 || af === 30) return { ok: true, ip: d.subarray(4) };
      return { ok: true, ip: null, skipped: 'non-IP loopback frame' };
    }
    case LINKTYPE.RAW:
    case LINKTYPE.IPV4:
    case LINKTYPE.IPV6:
      return { ok: true, ip: d };
    default:
      return fail('ING_ERR_LINK_TYPE', `unsupported link type ${linkType}`);
  }
  // 802.1Q and 802.1ad (QinQ) tags, any depth that fits the frame.
  while (etherType === ETH_VLAN || etherType === ETH_QINQ || etherType === ETH_QINQ_OLD) {
    if (d.length < off + 4) return fail('ING_ERR_LINK_SHORT', 'VLAN tag truncated');
    etherType = d.readUInt16BE(off + 2);
    off += 4;
  }
  if (etherType === ETH_IPV4 || etherType === ETH_IPV6) return { ok: true, ip: d.subarray(off) };
  return { ok: true, ip: null, skipped: 'non-IP frame' };
}

interface IpFragmentInfo {
  id: number;
  /** Byte offset of this fragment's data in the original payload. */
  offset: number;
  more: boolean;
}

export interface IpPacket {
  version: 4 | 6;
  src: string;
  dst: string;
  /** Upper-layer protocol (after IPv6 extension headers). */
  protocol: number;
  payload: Buffer;
  fragment: IpFragmentInfo | null;
}

export type IpResult = { ok: true; packet: IpPacket } | Fail;

function formatIpv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text form: lowercase, longest run of zero groups (length >= 2) compressed. */
export function formatIpv6(b: Buffer, o: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(b.readUInt16BE(o + i * 2));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

// IPv6 extension headers that carry a generic (next, length) layout (RFC 8200 §4).
const V6_HOP = 0;
const V6_ROUTING = 43;
const V6_FRAGMENT = 44;
const V6_DSTOPTS = 60;
const V6_AH = 51;
const V6_MOBILITY = 135;
const V6_HIP = 139;
const V6_SHIM6 = 140;

function isV6Extension(nh: number): boolean {
  return (
    nh === V6_HOP ||
    nh === V6_ROUTING ||
    nh === V6_DSTOPTS ||
    nh === V6_AH ||
    nh === V6_MOBILITY ||
    nh === V6_HIP ||
    nh === V6_SHIM6
  );
}

/** Walks non-fragment extension headers; returns the upper-layer protocol and its offset. */
export function skipV6Extensions(
  nh: number,
  b: Buffer,
  off: number,
): { ok: true; protocol: number; offset: number } | Fail {
  let guard = 0;
  while (isV6Extension(nh)) {
    if (++guard > 16) return fail('ING_ERR_IP_EXT', 'too many IPv6 extension headers');
    if (b.length < off + 2) return fail('ING_ERR_IP_SHORT', 'IPv6 extension header truncated');
    const next = b[off] as number;
    // AH counts its length in 4-byte units minus 2 (RFC 4302); the others in 8-byte units minus 1.
    const len = nh === V6_AH ? ((b[off + 1] as number) + 2) * 4 : ((b[off + 1] as number) + 1) * 8;
    if (b.length < off + len) return fail('ING_ERR_IP_SHORT', 'IPv6 extension header truncated');
    nh = next;
    off += len;
  }
  return { ok: true, protocol: nh, offset: off };
}

export function parseIp(b: Buffer): IpResult {
  if (b.length < 1) return fail('ING_ERR_IP_SHORT', 'empty IP packet');
  const version = (b[0] as number) >> 4;
  if (version === 4) {
    if (b.length < 20) return fail('ING_ERR_IP_SHORT', 'IPv4 header truncated');
    const ihl = ((b[0] as number) & 0x0f) * 4;
    if (ihl < 20) return fail('ING_ERR_IP_HEADER', 'IPv4 header length below 20');
    // Total length 0 is what a sender's capture shows for TCP segmentation offload: use what was captured.
    const total = b.readUInt16BE(2) === 0 ? b.length : b.readUInt16BE(2);
    if (total < ihl || b.length < ihl) return fail('ING_ERR_IP_SHORT', 'IPv4 total length shorter than header');
    // Trailing Ethernet padding is cut by total length; a snaplen-cut packet keeps what is there.
    const end = Math.min(total, b.length);
    const flags = b.readUInt16BE(6);
    const more = (flags & 0x2000) !== 0;
    const offset = (flags & 0x1fff) * 8;
    return {
      ok: true,
      packet: {
        version: 4,
        src: formatIpv4(b, 12),
        dst: formatIpv4(b, 16),
        protocol: b[9] as number,
        payload: b.subarray(ihl, end),
        fragment: more || offset > 0 ? { id: b.readUInt16BE(4), offset, more } : null,
      },
    };
  }
  if (version === 6) {
    if (b.length < 40) return fail('ING_ERR_IP_SHORT', 'IPv6 header truncated');
    const plen = b.readUInt16BE(4);
    // Payload length 0 means a jumbogram (RFC 2675); take what was captured.
    const end = plen === 0 ? b.length : Math.min(40 + plen, b.length);
    const body = b.subarray(0, end);
    const src = formatIpv6(b, 8);
    const dst = formatIpv6(b, 24);
    let nh = b[6] as number;
    let off = 40;
    const walked = skipV6Extensions(nh, body, off);
    if (!walked.ok) return walked;
    nh = walked.protocol;
    off = walked.offset;
    if (nh === V6_FRAGMENT) {
      if (body.length < off + 8) return fail('ING_ERR_IP_SHORT', 'IPv6 fragment header truncated');
      const fo = body.readUInt16BE(off + 2);
      return {
        ok: true,
        packet: {
          version: 6,
          src,
          dst,
          // For a fragment this is the next header of the fragmentable part (may be another extension).
          protocol: body[off] as number,
          payload: body.subarray(off + 8),
          fragment: { id: body.readUInt32BE(off + 4), offset: fo & 0xfff8, more: (fo & 1) === 1 },
        },
      };
    }
    return { ok: true, packet: { version: 6, src, dst, protocol: nh, payload: body.subarray(off), fragment: null } };
  }
  return fail('ING_ERR_IP_VERSION', `IP version ${version}`);
}

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export function parseUdp(b: Buffer): { ok: true; udp: UdpHeader } | Fail {
  if (b.length < 8) return fail('ING_ERR_UDP_SHORT', 'UDP header truncated');
  const len = b.readUInt16BE(4);
  // Length 0 is legal for IPv6 jumbograms; otherwise trust the smaller of header and capture.
  const end = len === 0 ? b.length : Math.min(len, b.length);
  if (len !== 0 && len < 8) return fail('ING_ERR_UDP_HEADER', 'UDP length below 8');
  return { ok: true, udp: { srcPort: b.readUInt16BE(0), dstPort: b.readUInt16BE(2), payload: b.subarray(8, end) } };
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

export interface TcpHeader {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  payload: Buffer;
}

export function parseTcp(b: Buffer): { ok: true; tcp: TcpHeader } | Fail {
  if (b.length < 20) return fail('ING_ERR_TCP_SHORT', 'TCP header truncated');
  const hl = ((b[12] as number) >> 4) * 4;
  if (hl < 20) return fail('ING_ERR_TCP_HEADER', 'TCP data offset below 5');
  if (b.length < hl) return fail('ING_ERR_TCP_SHORT', 'TCP options truncated');
  return {
    ok: true,
    tcp: {
      srcPort: b.readUInt16BE(0),
      dstPort: b.readUInt16BE(2),
      seq: b.readUInt32BE(4),
      ack: b.readUInt32BE(8),
      flags: b[13] as number,
      payload: b.subarray(hl),
    },
  };
}
