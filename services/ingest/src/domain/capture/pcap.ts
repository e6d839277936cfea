// Streaming reader for classic pcap and pcapng. The reader is
// push-based so it can consume tcpdump's stdout pipe chunk by chunk; it never throws on
// bad input, it reports a typed error and stops (a broken capture file cannot be resynced).
import type { IngestErrorCode } from '../../errors.ts';

/** Link-layer header types (tcpdump.org/linktypes.html). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

export interface CapturedPacket {
  tsMicros: number;
  linkType: number;
  /** Captured bytes (may be shorter than the original packet when snaplen cut it). */
  data: Buffer;
  originalLength: number;
}

export interface CaptureFormatError {
  code: Extract<IngestErrorCode, 'ING_ERR_PCAP_FORMAT' | 'ING_ERR_PCAP_TRUNCATED' | 'ING_ERR_PCAP_TOO_LARGE'>;
  reason: string;
}

/** Larger blocks or records than this are treated as corruption, not buffered. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

interface NgInterface {
  linkType: number;
  /** Multiply a raw timestamp by this to get microseconds. */
  tsScale: number;
}

type State =
  | { kind: 'start' }
  | { kind: 'pcap'; le: boolean; nanos: boolean; linkType: number }
  | { kind: 'pcapng'; le: boolean; interfaces: NgInterface[] }
  | { kind: 'failed' };

export class CaptureReader {
  #buf: Buffer = Buffer.alloc(0);
  #state: State = { kind: 'start' };
  #error: CaptureFormatError | null = null;
  packets = 0;

  get error(): CaptureFormatError | null {
    return this.#error;
  }

  /** Feeds bytes; calls onPacket for each complete record. Returns the error once the stream is unusable. */
  push(chunk: Uint8Array, onPacket: (p: CapturedPacket) => void): CaptureFormatError | null {
    if (this.#error) return this.#error;
    const c = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.#buf = this.#buf.length === 0 ? c : Buffer.concat([this.#buf, c]);
    let off = 0;
    for (;;) {
      const used = this.#step(this.#buf, off, onPacket);
      if (used === 0 || this.#error) break;
      off += used;
    }
    this.#buf = off >= this.#buf.length ? Buffer.alloc(0) : this.#buf.subarray(off);
    // A partial record left over is kept; keep its own memory so the big chunk can be freed.
    if (this.#buf.length > 0 && this.#buf.length < 65536) this.#buf = Buffer.from(this.#buf);
    return this.#error;
  }

  /** Call at end of input: leftover bytes mean the capture was cut mid-record. */
  end(): CaptureFormatError | null {
    if (this.#error) return this.#error;
    if (this.#buf.length > 0) {
      this.#fail('ING_ERR_PCAP_TRUNCATED', `capture ends inside a record (${this.#buf.length} bytes left)`);
    } else if (this.#state.kind === 'start') {
      this.#fail('ING_ERR_PCAP_TRUNCATED', 'empty capture');
    }
    return this.#error;
  }

  #fail(code: CaptureFormatError['code'], reason: string): 0 {
    this.#error = { code, reason };
    this.#state = { kind: 'failed' };
    return 0;
  }

  /** Consumes one header/record at off; returns bytes used, or 0 if more input is needed. */
  #step(b: Buffer, off: number, onPacket: (p: CapturedPacket) => void): number {
    const avail = b.length - off;
    const st = this.#state;
    switch (st.kind) {
      case 'failed':
        return 0;
      case 'start': {
        if (avail < 4) return 0;
        const m = b.readUInt32BE(off);
        if (m === PCAPNG_SHB) return this.#ngBlock(b, off, onPacket);
        if (avail < 24) return 0;
        let le: boolean;
        let nanos: boolean;
        if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) {
          le = false;
          nanos = m === PCAP_MAGIC_NS;
        } else {
          const ml = b.readUInt32LE(off);
          if (ml !== PCAP_MAGIC_US && ml !== PCAP_MAGIC_NS) {
            return this.#fail('ING_ERR_PCAP_FORMAT', 'not a pcap or pcapng capture (bad magic)');
          }
          le = true;
          nanos = ml === PCAP_MAGIC_NS;
        }
        const major = le ? b.readUInt16LE(off + 4) : b.readUInt16BE(off + 4);
        if (major !== 2) return this.#fail('ING_ERR_PCAP_FORMAT', `unsupported pcap version ${major}`);
        // The link type is the low 16 bits; the upper bits carry FCS info (draft-ietf-opsawg-pcap).
        const lt = (le ? b.readUInt32LE(off + 20) : b.readUInt32BE(off + 20)) & 0xffff;
        this.#state = { kind: 'pcap', le, nanos, linkType: lt };
        return 24;
      }
      case 'pcap': {
        if (avail < 16) return 0;
        const rd = st.le ? b.readUInt32LE.bind(b) : b.readUInt32BE.bind(b);
        const sec = rd(off);
        const frac = rd(off + 4);
        const incl = rd(off + 8);
        const orig = rd(off + 12);
        if (incl > MAX_RECORD_BYTES) return this.#fail('ING_ERR_PCAP_TOO_LARGE', `record of ${incl} bytes`);
        if (avail < 16 + incl) return 0;
        const tsMicros = sec * 1_000_000 + (st.nanos ? Math.floor(frac / 1000) : frac);
        this.packets++;
        onPacket({
          tsMicros,
          linkType: st.linkType,
          data: b.subarray(off + 16, off + 16 + incl),
          originalLength: orig,
        });
        return 16 + incl;
      }
      case 'pcapng':
        return this.#ngBlock(b, off, onPacket);
    }
  }

  #ngBlock(b: Buffer, off: number, onPacket: (p: CapturedPacket) => void): number {
    const avail = b.length - off;
    if (avail < 12) return 0;
    const type = b.readUInt32BE(off);
    let le: boolean;
    if (type === PCAPNG_SHB) {
      // Section header: the byte-order magic decides the endianness of this whole section.
      const bomLe = b.readUInt32LE(off + 8);
      if (bomLe === PCAPNG_BOM) le = true;
      else if (b.readUInt32BE(off + 8) === PCAPNG_BOM) le = false;
      else return this.#fail('ING_ERR_PCAP_FORMAT', 'pcapng section header with bad byte-order magic');
    } else if (this.#state.kind === 'pcapng') {
      le = this.#state.le;
    } else {
      return this.#fail('ING_ERR_PCAP_FORMAT', 'pcapng block before section header');
    }
    const u32 = (o: number) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
    const u16 = (o: number) => (le ? b.readUInt16LE(o) : b.readUInt16BE(o));
    const blockType = u32(off);
    const len = u32(off + 4);
    if (len < 12 || len % 4 !== 0) return this.#fail('ING_ERR_PCAP_FORMAT', `pcapng block length ${len}`);
    if (len > MAX_RECORD_BYTES) return this.#fail('ING_ERR_PCAP_TOO_LARGE', `pcapng block of ${len} bytes`);
    if (avail < len) return 0;
    if (u32(off + len - 4) !== len) return this.#fail('ING_ERR_PCAP_FORMAT', 'pcapng trailing block length mismatch');
    const body = off + 8;
    const bodyEnd = off + len - 4;
    switch (blockType) {
      case PCAPNG_SHB:
        this.#state = { kind: 'pcapng', le, interfaces: [] };
        break;
      case 1: {
        // Interface Description Block: link type, snaplen, options (if_tsresol = 9).
        if (bodyEnd - body < 8) return this.#fail('ING_ERR_PCAP_FORMAT', 'short interface description block');
        const linkType = u16(body);
        let tsScale = 1; // default resolution is microseconds
        let o = body + 8;
        while (o + 4 <= bodyEnd) {
          const code = u16(o);
          const olen = u16(o + 2);
          if (code === 0) break;
          if (o + 4 + olen > bodyEnd) break;
          if (code === 9 && olen >= 1) {
            const r = b[o + 4] ?? 6;
            const exp = r & 0x7f;
            // High bit set: negative power of two; otherwise negative power of ten.
            const unitsPerSec = r & 0x80 ? 2 ** exp : 10 ** exp;
            tsScale = 1_000_000 / unitsPerSec;
          }
          o += 4 + ((olen + 3) & ~3);
        }
        if (this.#state.kind === 'pcapng') this.#state.interfaces.push({ linkType, tsScale });
        break;
      }
      case 6:
      case 2: {
        // Enhanced Packet Block (6) and the obsolete Packet Block (2).
        if (bodyEnd - body < 20) return this.#fail('ING_ERR_PCAP_FORMAT', 'short packet block');
        const ifId = blockType === 6 ? u32(body) : u16(body);
        const hi = u32(body + 4);
        const lo = u32(body + 8);
        const capLen = u32(body + 12);
        const origLen = u32(body + 16);
        if (body + 20 + capLen > bodyEnd) return this.#fail('ING_ERR_PCAP_FORMAT', 'packet block data overruns block');
        const ifc = this.#state.kind === 'pcapng' ? this.#state.interfaces[ifId] : undefined;
        if (!ifc) return this.#fail('ING_ERR_PCAP_FORMAT', `packet references unknown interface ${ifId}`);
        const raw = hi * 4294967296 + lo;
        this.packets++;
        onPacket({
          tsMicros: Math.floor(raw * ifc.tsScale),
          linkType: ifc.linkType,
          data: b.subarray(body + 20, body + 20 + capLen),
          originalLength: origLen,
        });
        break;
      }
      case 3: {
        // Simple Packet Block: interface 0, no timestamp; captured length is bounded by the block.
        const ifc = this.#state.kind === 'pcapng' ? this.#state.interfaces[0] : undefined;
        if (!ifc) return this.#fail('ING_ERR_PCAP_FORMAT', 'simple packet block without interface');
        const origLen = u32(body);
        const capLen = Math.min(origLen, bodyEnd - body - 4);
        this.packets++;
        onPacket({
          tsMicros: 0,
          linkType: ifc.linkType,
          data: b.subarray(body + 4, body + 4 + capLen),
          originalLength: origLen,
        });
        break;
      }
      default:
        // Name resolution, statistics, custom blocks: not needed for decoding.
        break;
    }
    return len;
  }
}

export type ReadResult = { ok: true; packets: number } | { ok: false; packets: number; error: CaptureFormatError };

/** Reads a whole capture from a stream of chunks (a file stream or tcpdump's stdout). */
export async function readCapture(
  source: AsyncIterable<Uint8Array>,
  onPacket: (p: CapturedPacket) => void,
): Promise<ReadResult> {
  const r = new CaptureReader();
  for await (const chunk of source) {
    const err = r.push(chunk, onPacket);
    if (err) return { ok: false, packets: r.packets, error: err };
  }
  const err = r.end();
  return err ? { ok: false, packets: r.packets, error: err } : { ok: true, packets: r.packets };
}
