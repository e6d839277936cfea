// Line-protocol test peers: a TCP client that records both directions in order (for replaying
// through a decoder) and free-port helpers. Shared by ingest's tests and the end-to-end flows.
import net from 'node:net';

/** One direction's bytes as the client saw them: C = client to server, S = server to client. */
export type Step = readonly ['C' | 'S', string | Buffer];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP client that keeps both directions, in the order it saw them, as replayable steps. */
export class RecordingClient {
  readonly steps: Step[] = [];
  private socket: net.Socket;
  private pending = '';
  private waiters: Array<{ re: RegExp; resolve: (s: string) => void; reject: (e: Error) => void }> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.steps.push(['S', d]);
      this.pending += d.toString('latin1');
      this.check();
    });
  }

  static connect(port: number): Promise<RecordingClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => resolve(new RecordingClient(s)));
      s.once('error', reject);
    });
  }

  private check(): void {
    const w = this.waiters[0];
    if (!w) return;
    const m = w.re.exec(this.pending);
    if (!m) return;
    const upto = m.index + m[0].length;
    const got = this.pending.slice(0, upto);
    this.pending = this.pending.slice(upto);
    this.waiters.shift();
    w.resolve(got);
    this.check();
  }

  /** Resolves with the server text up to and including the first match of `re`. */
  expect(re: RegExp, timeoutMs = 8000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timeout waiting for ${re}: ${this.pending.slice(-200)}`)),
        timeoutMs,
      );
      this.waiters.push({
        re,
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject,
      });
      this.check();
    });
  }

  send(data: string | Buffer): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    this.steps.push(['C', b]);
    this.socket.write(b);
  }

  /** Send then wait: the usual lock-step of a line protocol. */
  async exchange(data: string | Buffer, re: RegExp): Promise<string> {
    this.send(data);
    return this.expect(re);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref();
    });
  }
}
