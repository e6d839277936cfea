// Stream framing of X2/X3 PDUs on TCP/TLS (TS 103 221-2 clause 6): read 12 octets, take Header
// Length and Payload Length, wait for the whole PDU. A PDU whose lengths are usable but whose
// content is malformed is skipped and reported (the stream stays in step); unusable lengths
// (bad major version, header shorter than 40, beyond the size bound) end the connection.
import type { IngestErrorCode } from '../../errors.ts';
import { decodePdu, peekLengths, type X2X3Attributes, type X2X3Pdu } from './pdu.ts';

export type FrameEvent =
  | { kind: 'pdu'; pdu: X2X3Pdu; attrs: X2X3Attributes; octets: number }
  | { kind: 'problem'; code: IngestErrorCode; reason: string; fatal: boolean };

export const DEFAULT_MAX_PDU_BYTES = 16 * 1024 * 1024;

export class X2X3Framer {
  private chunks: Buffer[] = [];
  private size = 0;
  private closed = false;
  /** Octets the PDU at the head needs in all (0 until its length fields are known). */
  private needed = 0;
  private readonly maxPdu: number;

  constructor(maxPduBytes: number = DEFAULT_MAX_PDU_BYTES) {
    this.maxPdu = maxPduBytes;
  }

  /** Octets waiting for the rest of a PDU. */
  get buffered(): number {
    return this.size;
  }

  push(bytes: Buffer): FrameEvent[] {
    if (this.closed) return [];
    this.chunks.push(Buffer.from(bytes));
    this.size += bytes.length;
    // A large PDU arrives in many segments: join them only once all of it is here.
    if (this.size < this.needed) return [];
    const events: FrameEvent[] = [];
    let buf = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
    this.needed = 0;
    for (;;) {
      const lengths = peekLengths(buf);
      if (lengths === null) break;
      if (!lengths.ok) {
        events.push({ kind: 'problem', code: lengths.code, reason: lengths.reason, fatal: true });
        this.fail();
        return events;
      }
      const total = lengths.headerLength + lengths.payloadLength;
      if (total > this.maxPdu) {
        events.push({ kind: 'problem', code: 'ING_ERR_X2X3_TOO_LARGE', reason: `PDU of ${total} octets`, fatal: true });
        this.fail();
        return events;
      }
      if (buf.length < total) {
        this.needed = total;
        break;
      }
      const decoded = decodePdu(buf.subarray(0, total));
      if (decoded.ok) events.push({ kind: 'pdu', pdu: decoded.pdu, attrs: decoded.attrs, octets: total });
      else events.push({ kind: 'problem', code: decoded.code, reason: decoded.reason, fatal: false });
      buf = buf.subarray(total);
    }
    this.chunks = buf.length > 0 ? [buf] : [];
    this.size = buf.length;
    return events;
  }

  private fail(): void {
    this.closed = true;
    this.chunks = [];
    this.size = 0;
  }
}
