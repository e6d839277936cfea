// A LEMF receiver harness: TCP or TLS listener on 127.0.0.1 that splits BER PDUs, records them,
// answers keep-alives, optionally acknowledges each data PDU, and can be stopped and restarted
// on the same port to simulate an outage.
import net from 'node:net';
import tls from 'node:tls';
import { FrameReader, type Framing } from '../../src/domain/framing.ts';
import { ACK, KA_TAIL, KEEPALIVE_RESPONSE } from './codec.ts';

export interface LemfOptions {
  answerKeepalives?: boolean;
  ackEach?: boolean;
  framing?: Framing;
  tls?: tls.TlsOptions;
  port?: number;
  /** Slow LEMF: pause reading this long after every chunk. */
  pauseMsPerChunk?: number;
}

export class LemfHarness {
  readonly frames: Buffer[] = [];
  keepalives = 0;
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
        for (const f of reader.push(chunk).frames) {
          const frame = Buffer.from(f);
          if (frame.length >= 6 && frame.subarray(-6).equals(KA_TAIL)) {
            this.keepalives++;
            this.keepaliveAt.push(this.frames.length);
            if (this.#o.answerKeepalives !== false) s.write(KEEPALIVE_RESPONSE);
            continue;
          }
          this.frames.push(frame);
          if (this.#o.ackEach) s.write(ACK);
        }
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
      server.listen(this.port, '127.0.0.1', () => resolve());
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
