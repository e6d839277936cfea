// A TCP relay between cc-delivery and a LEMF that can swallow the path: while swallowing it keeps
// reading what cc-delivery writes (so every write completes) but forwards nothing either way —
// the records are gone, as behind a middlebox that lost them, and no keep-alive is answered.
// It counts what it swallowed: data PDUs, and keep-alives with the data count when each came.
import net from 'node:net';
import { FrameReader } from '../../src/domain/framing.ts';

/** Tail of a PS-PDU carrying a TRI keepAlive (as the LEMF harness recognises it). */
const KA_TAIL = Buffer.from([0xa2, 0x04, 0xa2, 0x02, 0x83, 0x00]);

export class SwallowRelay {
  port = 0;
  swallowedData = 0;
  /** swallowedData when each swallowed keep-alive arrived. */
  readonly swallowedKeepalivesAt: number[] = [];
  #swallowing = false;
  readonly #target: { host: string; port: number };
  #server: net.Server | null = null;
  readonly #sockets = new Set<net.Socket>();

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async start(): Promise<this> {
    const server = net.createServer((c) => this.#accept(c));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.#server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  swallow(): void {
    this.#swallowing = true;
  }

  restore(): void {
    this.#swallowing = false;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const s = this.#server;
    this.#server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  #accept(client: net.Socket): void {
    const upstream = net.connect(this.#target);
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.#sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const reader = new FrameReader('ber');
    client.on('data', (chunk: Buffer) => {
      const { frames } = reader.push(chunk);
      if (!this.#swallowing) {
        upstream.write(chunk);
        return;
      }
      for (const f of frames) {
        if (f.length >= 6 && Buffer.from(f.subarray(f.length - 6)).equals(KA_TAIL))
          this.swallowedKeepalivesAt.push(this.swallowedData);
        else this.swallowedData++;
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.#swallowing) client.write(chunk);
    });
  }
}
