// Classic pcap files (little-endian, microseconds) for fixtures and tests.
const PCAP_MAGIC_US = 0xa1b2c3d4;

export function pcapHeader(linkType: number, snaplen = 262144): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(PCAP_MAGIC_US, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(linkType, 20);
  return h;
}

export function pcapRecord(tsMicros: number, data: Buffer, originalLength = data.length): Buffer {
  const r = Buffer.alloc(16 + data.length);
  const sec = Math.floor(tsMicros / 1_000_000);
  r.writeUInt32LE(sec, 0);
  r.writeUInt32LE(tsMicros - sec * 1_000_000, 4);
  r.writeUInt32LE(data.length, 8);
  r.writeUInt32LE(originalLength, 12);
  data.copy(r, 16);
  return r;
}

export function writePcap(linkType: number, packets: readonly { tsMicros: number; data: Buffer }[]): Buffer {
  return Buffer.concat([pcapHeader(linkType), ...packets.map((p) => pcapRecord(p.tsMicros, p.data))]);
}
