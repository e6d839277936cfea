// A LEMF as a monitoring centre runs it: two TCP listeners (HI2 for IRI, HI3 for CC) that split
// the stream into BER PDUs, answer TS 102 232-1 keep-alives with the same sequence number, and
// decode every record with libs/etsi into a summary (LIID, CIN, sequence number, record type).
// The raw bytes are kept so tests can hand them to independent decoders (asn1c, tshark).
import net from 'node:net';
import { decodeHi2, decodePsPdu, encodeKeepaliveResponse, HI2_RECORD, IRI_TYPE, type PsPdu, pduLength } from '@li/etsi';

export type Handover = 'HI2' | 'HI3';

export interface ReceivedRecord {
  handover: Handover;
  /** TS102232 for a PS-PDU, TS101671 for a bare HI2Operations record. */
  format: 'TS102232' | 'TS101671' | 'UNKNOWN';
  liid: string;
  cin: number;
  seq: number;
  /** e.g. "IRI-BEGIN iPMMIRI", "CC emailCC", "HI1 liActivated", "TS101671 IRI-BEGIN". */
  type: string;
  /** The header's time of interception (microseconds since the epoch), when it has one. */
  timeMicros: number | null;
  bytes: Buffer<ArrayBufferLike>;
  receivedAtMs: number;
}

const IRI_NAME: Record<number, string> = {
  [IRI_TYPE.begin]: 'IRI-BEGIN',
  [IRI_TYPE.end]: 'IRI-END',
  [IRI_TYPE.continue]: 'IRI-CONTINUE',
  [IRI_TYPE.report]: 'IRI-REPORT',
};
const HI2_NAME: Record<number, string> = {
  [HI2_RECORD.begin]: 'IRI-BEGIN',
  [HI2_RECORD.end]: 'IRI-END',
  [HI2_RECORD.continue]: 'IRI-CONTINUE',
  [HI2_RECORD.report]: 'IRI-REPORT',
};

function typeOf(pdu: PsPdu): string {
  const p = pdu.payload;
  if (p.kind === 'iri') {
    const item = p.items[0];
    return `${IRI_NAME[item?.iriType ?? 0] ?? 'IRI'} ${item?.contents.kind ?? '?'}`;
  }
  if (p.kind === 'cc') return `CC ${p.items[0]?.contents.kind ?? '?'}`;
  if (p.kind === 'tri') return `TRI ${p.tri.kind}`;
  if (p.kind === 'hi1') return `HI1 ${p.operation.kind}`;
  return `payload[${p.tag}]`;
}

/** Summarises one received PDU; never throws (an undecodable record is counted as UNKNOWN). */
export function summarise(
  handover: Handover,
  bytes: Buffer<ArrayBufferLike>,
  receivedAtMs = Date.now(),
): ReceivedRecord {
  const ps = decodePsPdu(bytes);
  if (ps.ok) {
    const h = ps.value.header;
    const us = h.microSecondTimeStamp;
    return {
      handover,
      format: 'TS102232',
      liid: h.liid,
      cin: h.communicationIdentifier.cin ?? 0,
      seq: h.sequenceNumber,
      type: typeOf(ps.value),
      timeMicros: us ? us.seconds * 1_000_000 + us.microSeconds : (h.timeStamp ?? null),
      bytes,
      receivedAtMs,
    };
  }
  const hi2 = decodeHi2(bytes);
  if (hi2.ok) {
    const iri = hi2.value.kind === 'iRIContent' ? hi2.value.iri : hi2.value.iris[0];
    if (!iri) {
      return {
        handover,
        format: 'TS101671',
        liid: '',
        cin: 0,
        seq: -1,
        type: 'empty',
        timeMicros: null,
        bytes,
        receivedAtMs,
      };
    }
    return {
      handover,
      format: 'TS101671',
      liid: iri.params.liid,
      cin: Number(iri.params.communicationIdentifier.cin ?? 0),
      seq: -1,
      type: `TS101671 ${HI2_NAME[iri.recordType] ?? 'IRI'}`,
      timeMicros: null,
      bytes,
      receivedAtMs,
    };
  }
  return {
    handover,
    format: 'UNKNOWN',
    liid: '',
    cin: 0,
    seq: -1,
    type: 'undecodable',
    timeMicros: null,
    bytes,
    receivedAtMs,
  };
}

export interface LemfReceiverOptions {
  name: string;
  /** Fixed ports (the demo); 0 or absent: ephemeral. */
  hi2Port?: number;
  hi3Port?: number;
  onRecord?: (r: ReceivedRecord) => void;
}

export class LemfReceiver {
  readonly name: string;
  readonly records: ReceivedRecord[] = [];
  keepalives = 0;
  hi2Port = 0;
  hi3Port = 0;
  readonly #o: LemfReceiverOptions;
  readonly #servers: net.Server[] = [];
  readonly #sockets = new Set<net.Socket>();

  constructor(o: LemfReceiverOptions) {
    this.#o = o;
    this.name = o.name;
  }

  async start(): Promise<this> {
    this.hi2Port = await this.#listen('HI2', this.#o.hi2Port ?? 0);
    this.hi3Port = await this.#listen('HI3', this.#o.hi3Port ?? 0);
    return this;
  }

  /** Records of one LIID in arrival order. */
  of(liid: string): ReceivedRecord[] {
    return this.records.filter((r) => r.liid === liid);
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await Promise.all(this.#servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.#servers.length = 0;
  }

  async #listen(handover: Handover, port: number): Promise<number> {
    const server = net.createServer((s) => this.#accept(handover, s));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#servers.push(server);
    return (server.address() as net.AddressInfo).port;
  }

  #accept(handover: Handover, s: net.Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
    s.on('error', () => undefined);
    let buf: Buffer<ArrayBufferLike> = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      for (;;) {
        const len = pduLength(buf);
        if (!len.ok) {
          s.destroy(); // not BER: a real LEMF would drop the connection too
          return;
        }
        if (len.length === undefined || len.length > buf.length) return;
        const frame = Buffer.from(buf.subarray(0, len.length));
        buf = buf.subarray(len.length);
        const ps = decodePsPdu(frame);
        if (ps.ok && ps.value.payload.kind === 'tri' && ps.value.payload.tri.kind === 'keepAlive') {
          this.keepalives++;
          const h = ps.value.header;
          s.write(
            encodeKeepaliveResponse({
              liid: h.liid,
              operatorIdentifier: h.communicationIdentifier.operatorIdentifier,
              sequenceNumber: h.sequenceNumber,
              timeMicros: Date.now() * 1000,
              timestampFormat: 'MICROSECOND',
            }),
          );
          continue;
        }
        const r = summarise(handover, frame);
        this.records.push(r);
        this.#o.onRecord?.(r);
      }
    });
  }
}
