// A LEMF receiver for tests and benchmarks (@li/cc-delivery/testing): a TCP or TLS listener on
// 127.0.0.1 that splits BER PDUs, records them, answers TS 102 232-1 keep-alives, optionally
// answers each PDU acknowledgement request (cl. 6.3.6) with the response naming the same PDU, and
// can be stopped and restarted on the same port to simulate an outage.
import net from 'node:net';
import tls from 'node:tls';
import { encodeKeepaliveResponse } from '@li/etsi';
import { FrameReader, type Framing } from '../domain/framing.ts';

/** Tail of a PS-PDU whose payload is a TRI keepAlive: payload [2] { tRIPayload [2] { keepAlive [3] NULL } }. */
const KA_TAIL = Buffer.from([0xa2, 0x04, 0xa2, 0x02, 0x83, 0x00]);
/** Tail of a TRI pDUAcknowledgementRequest ([12]); the response ([13]) differs in its last tag only. */
const ACK_REQUEST_TAIL = Buffer.from([0xa2, 0x04, 0xa2, 0x02, 0x8c, 0x00]);
const ACK_RESPONSE_TAG = 0x8d;
const header = {
  operatorIdentifier: 'LEMF',
  sequenceNumber: 0,
  timeMicros: 0,
  timestampFormat: 'GENERALIZED_TIME' as const,
};
/** The keep-aliveResponse the harness answers with. */
const KEEPALIVE_RESPONSE = encodeKeepaliveResponse(header);

export interface LemfOptions {
  answerKeepalives?: boolean;
  /** Answer each pDUAcknowledgementRequest: the same header (LIID, CIN, seq), so it names the same PDU. */
  ackEach?: boolean;
  framing?: Framing;
  tls?: tls.TlsOptions;
  port?: number;
  /** Listen address (default 127.0.0.1; the IPsec test listens on the LEMF's tunnel address). */
  host?: string;
  /** Slow LEMF: pause reading this long after every chunk. */
  pauseMsPerChunk?: number;
  /** Benchmarks: count PDUs and bytes only, keep no copies. */
  countOnly?: boolean;
}

export class LemfHarness {
  readonly frames: Buffer[] = [];
  /** Data PDUs received (also counted with countOnly). */
  received = 0;
  bytes = 0;
  /** performance.now() of the first and the latest data PDU. */
  firstAt = 0;
  lastAt = 0;
  keepalives = 0;
  /** The first keep-alive PDUs received, as sent (at most 16, none with countOnly). */
  readonly keepaliveFrames: Buffer[] = [];
  /** PDU acknowledgement requests received (answered when ackEach). */
  ackRequests = 0;
  /** frames.length when each keep-alive arrived: shows keep-alives interleaved with a backlog. */
  readonly keepaliveAt: number[] = [];
  connections = 0;
  port = 0;
  readonly #o: LemfOptions;
  #server: net.Server | null = null;
  readonly #sockets = new Set<net.Socket>();

  constructor(o: LemfOptions = {}) {
    this.#o = o;
    this.port = o.port ?? 0;
  }

  get data(): Buffer[] {
    return this.frames;
  }

  async start(): Promise<this> {
    const onConn = (s: net.Socket) => {
      this.connections++;
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
      s.on('error', () => undefined);
      const reader = new FrameReader(this.#o.framing ?? 'ber');
      s.on('data', (chunk: Buffer) => {
        const acks: Buffer[] = [];
        for (const f of reader.push(chunk).frames) {
          if (f.length >= 6 && Buffer.from(f.subarray(f.length - 6)).equals(KA_TAIL)) {
            this.keepalives++;
            this.keepaliveAt.push(this.frames.length);
            if (!this.#o.countOnly && this.keepaliveFrames.length < 16) this.keepaliveFrames.push(Buffer.from(f));
            if (this.#o.answerKeepalives !== false) s.write(KEEPALIVE_RESPONSE);
            continue;
          }
          if (f.length >= 6 && Buffer.from(f.subarray(f.length - 6)).equals(ACK_REQUEST_TAIL)) {
            this.ackRequests++;
            if (this.#o.ackEach) {
              const response = Buffer.from(f);
              response[response.length - 2] = ACK_RESPONSE_TAG;
              acks.push(response);
            }
            continue;
          }
          this.received++;
          this.bytes += f.length;
          this.lastAt = performance.now();
          if (this.received === 1) this.firstAt = this.lastAt;
          if (!this.#o.countOnly) this.frames.push(Buffer.from(f));
        }
        if (acks.length > 0) s.write(acks.length === 1 ? acks[0]! : Buffer.concat(acks));
        const pause = this.#o.pauseMsPerChunk ?? 0;
        if (pause > 0) {
          s.pause();
          setTimeout(() => s.resume(), pause);
        }
      });
    };
    const server = this.#o.tls ? tls.createServer(this.#o.tls, onConn) : net.createServer(onConn);
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.#o.host ?? '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
    return this;
  }

  /** Outage: drop every connection and stop listening. */
  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
