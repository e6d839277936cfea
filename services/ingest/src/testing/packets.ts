// Builds Ethernet/IPv4/IPv6/TCP/UDP frames with valid checksums: fixtures for tests and the
// throughput measurement, checked against tshark in the integration tests.
const isIPv4 = (a: string): boolean => !a.includes(':');

function ipv4Bytes(a: string): Buffer {
  return Buffer.from(a.split('.').map((x) => Number(x)));
}

function ipv6Bytes(a: string): Buffer {
  const [head = '', tail] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  const groups = [...h, ...zeros, ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => {
    b.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return b;
}

function sum16(b: Buffer, acc = 0): number {
  for (let i = 0; i + 1 < b.length; i += 2) acc += b.readUInt16BE(i);
  if (b.length % 2) acc += (b[b.length - 1] as number) << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16);
  return ~acc & 0xffff;
}

export interface TcpSpec {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  payload?: Buffer;
}

export interface UdpSpec {
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

export function tcpSegment(s: TcpSpec): Buffer {
  const payload = s.payload ?? Buffer.alloc(0);
  const t = Buffer.alloc(20 + payload.length);
  t.writeUInt16BE(s.srcPort, 0);
  t.writeUInt16BE(s.dstPort, 2);
  t.writeUInt32BE(s.seq >>> 0, 4);
  t.writeUInt32BE((s.ack ?? 0) >>> 0, 8);
  t[12] = 5 << 4;
  t[13] = s.flags;
  t.writeUInt16BE(65535, 14);
  payload.copy(t, 20);
  return t;
}

export function udpDatagram(s: UdpSpec): Buffer {
  const u = Buffer.alloc(8 + s.payload.length);
  u.writeUInt16BE(s.srcPort, 0);
  u.writeUInt16BE(s.dstPort, 2);
  u.writeUInt16BE(u.length, 4);
  s.payload.copy(u, 8);
  return u;
}

function l4Checksum(src: Buffer, dst: Buffer, proto: number, l4: Buffer, offset: number): void {
  const pseudo =
    src.length === 4
      ? Buffer.concat([src, dst, Buffer.from([0, proto, l4.length >> 8, l4.length & 0xff])])
      : Buffer.concat([src, dst, Buffer.from([0, 0, l4.length >> 8, l4.length & 0xff, 0, 0, 0, proto])]);
  l4.writeUInt16BE(0, offset);
  let c = fold(sum16(l4, sum16(pseudo)));
  if (c === 0 && proto === 17) c = 0xffff;
  l4.writeUInt16BE(c, offset);
}

/** An IP packet carrying l4 (checksums filled in). Optional IPv4 fragment fields. */
export function ipPacket(
  src: string,
  dst: string,
  proto: number,
  l4: Buffer,
  frag?: { id: number; offsetBytes: number; more: boolean; skipChecksum?: boolean },
): Buffer {
  const v4 = isIPv4(src);
  const s = v4 ? ipv4Bytes(src) : ipv6Bytes(src);
  const d = v4 ? ipv4Bytes(dst) : ipv6Bytes(dst);
  if (!frag?.skipChecksum) {
    if (proto === 6) l4Checksum(s, d, proto, l4, 16);
    if (proto === 17) l4Checksum(s, d, proto, l4, 6);
  }
  if (v4) {
    const h = Buffer.alloc(20);
    h[0] = 0x45;
    h.writeUInt16BE(20 + l4.length, 2);
    h.writeUInt16BE(frag?.id ?? 0, 4);
    h.writeUInt16BE((frag?.more ? 0x2000 : frag ? 0 : 0x4000) | ((frag?.offsetBytes ?? 0) >> 3), 6);
    h[8] = 64;
    h[9] = proto;
    s.copy(h, 12);
    d.copy(h, 16);
    h.writeUInt16BE(fold(sum16(h)), 10);
    return Buffer.concat([h, l4]);
  }
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h[7] = 64;
  s.copy(h, 8);
  d.copy(h, 24);
  if (frag) {
    const fh = Buffer.alloc(8);
    fh[0] = proto;
    fh.writeUInt16BE((frag.offsetBytes & 0xfff8) | (frag.more ? 1 : 0), 2);
    fh.writeUInt32BE(frag.id, 4);
    h[6] = 44;
    h.writeUInt16BE(8 + l4.length, 4);
    return Buffer.concat([h, fh, l4]);
  }
  h[6] = proto;
  h.writeUInt16BE(l4.length, 4);
  return Buffer.concat([h, l4]);
}

/** Splits an IP payload (already checksummed l4) into fragments of at most `size` bytes (multiple of 8). */
export function fragmentIp(src: string, dst: string, proto: number, l4: Buffer, size: number, id: number): Buffer[] {
  const v4 = isIPv4(src);
  const s = v4 ? ipv4Bytes(src) : ipv6Bytes(src);
  const d = v4 ? ipv4Bytes(dst) : ipv6Bytes(dst);
  const full = Buffer.from(l4);
  if (proto === 6) l4Checksum(s, d, proto, full, 16);
  if (proto === 17) l4Checksum(s, d, proto, full, 6);
  const out: Buffer[] = [];
  for (let o = 0; o < full.length; o += size) {
    const part = full.subarray(o, Math.min(full.length, o + size));
    out.push(ipPacket(src, dst, proto, part, { id, offsetBytes: o, more: o + size < full.length, skipChecksum: true }));
  }
  return out;
}

const MAC_A = Buffer.from([0x02, 0, 0, 0, 0, 1]);
const MAC_B = Buffer.from([0x02, 0, 0, 0, 0, 2]);

/** Wraps an IP packet in Ethernet, with optional 802.1Q tags (outermost first). */
export function ethernet(ip: Buffer, vlans: number[] = []): Buffer {
  const v6 = (ip[0] as number) >> 4 === 6;
  const parts: Buffer[] = [MAC_B, MAC_A];
  vlans.forEach((vid, i) => {
    const tag = Buffer.alloc(4);
    tag.writeUInt16BE(i === 0 && vlans.length > 1 ? 0x88a8 : 0x8100, 0);
    tag.writeUInt16BE(vid & 0x0fff, 2);
    parts.push(tag);
  });
  parts.push(Buffer.from(v6 ? [0x86, 0xdd] : [0x08, 0x00]), ip);
  return Buffer.concat(parts);
}

/** Linux cooked v1 header (packet type 0 = to us), ARPHRD_ETHER. */
export function linuxSll(ip: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0);
  h.writeUInt16BE(1, 2);
  h.writeUInt16BE(6, 4);
  MAC_A.copy(h, 6);
  h.writeUInt16BE((ip[0] as number) >> 4 === 6 ? 0x86dd : 0x0800, 14);
  return Buffer.concat([h, ip]);
}

/** Linux cooked v2 header. */
export function linuxSll2(ip: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE((ip[0] as number) >> 4 === 6 ? 0x86dd : 0x0800, 0);
  h.writeUInt32BE(1, 4);
  h.writeUInt16BE(1, 8);
  h[10] = 0;
  h[11] = 6;
  MAC_A.copy(h, 12);
  return Buffer.concat([h, ip]);
}
