// A userland TCP relay between cc-delivery and a LEMF port that can black-hole the path: while the
// fault lasts it forwards nothing in either direction and stops reading, so the sender's socket
// buffers fill and nothing is answered (no RST, no data, no keep-alive response); connections
// opened during the fault are accepted and then hang. When the fault ends, connections from
// before it carry on (as TCP would once its retransmissions get through: what the sender wrote,
// and a close it made meanwhile, arrive late), and those opened during it are dropped unread (a
// real black hole would never have completed their handshake).
import net from 'node:net';

interface Pair {
  client: net.Socket;
  upstream: net.Socket | null;
  /** Accepted during a fault: never forwarded, dropped when the fault ends. */
  hung: boolean;
}

export class BlackholeRelay {
  port = 0;
  /** Connections accepted, and how many of them during a fault. */
  accepted = 0;
  acceptedDuringFault = 0;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #server: net.Server | null = null;
  #faulted = false;

  constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  async start(port = 0): Promise<this> {
    const server = net.createServer((c) => this.#accept(c));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  /** From now on nothing passes and nothing is read. */
  blackhole(): void {
    this.#faulted = true;
    for (const p of this.#pairs) this.#hold(p);
  }

  /** The path is back: connections from before the fault carry on, those opened during it are dropped. */
  restore(): void {
    this.#faulted = false;
    for (const p of [...this.#pairs]) {
      if (p.hung) this.#drop(p);
      else this.#forward(p);
    }
  }

  async stop(): Promise<void> {
    for (const p of [...this.#pairs]) this.#drop(p);
    const s = this.#server;
    this.#server = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    const pair: Pair = { client, upstream: null, hung: this.#faulted };
    this.#pairs.add(pair);
    client.pause();
    client.on('error', () => this.#drop(pair));
    // a clean close: pipe() ends the other side once what was read has been written
    client.on('close', () => {
      this.#pairs.delete(pair);
      pair.upstream?.end();
    });
    if (pair.hung) {
      this.acceptedDuringFault++;
      return; // accepted, never read, never answered
    }
    const upstream = net.connect(this.#target);
    pair.upstream = upstream;
    upstream.pause();
    upstream.on('error', () => this.#drop(pair));
    upstream.on('close', () => {
      this.#pairs.delete(pair);
      client.end();
    });
    upstream.once('connect', () => {
      if (!this.#faulted) this.#forward(pair);
    });
  }

  #forward(p: Pair): void {
    const u = p.upstream;
    if (!u || u.connecting) return; // its connect handler starts forwarding
    p.client.pipe(u);
    u.pipe(p.client);
  }

  #hold(p: Pair): void {
    const u = p.upstream;
    if (u) {
      p.client.unpipe(u);
      u.unpipe(p.client);
      u.pause();
    }
    p.client.pause();
  }

  #drop(p: Pair): void {
    this.#pairs.delete(p);
    p.client.destroy();
    p.upstream?.destroy();
  }
}
