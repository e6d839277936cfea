// Shared by the mail/MSNP integration tests: free ports, a recording TCP client, tcpdump on the
// loopback as the traffic oracle, and decoding a pcap through the real capture pipeline.
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import net from 'node:net';
import { createCapture } from '../src/domain/capture/capture.ts';
import { readCapture } from '../src/domain/capture/pcap.ts';
import type { Collected, Step } from '../src/domain/mail/test-kit.ts';
import { collector } from '../src/domain/mail/test-kit.ts';
import type { StreamDecoderFactory } from '../src/domain/stream.ts';

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

/** tcpdump on lo writing a pcap; stop() ends it with SIGINT and waits until the file is complete. */
export async function startTcpdump(file: string, filter: string): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    'tcpdump',
    ['-i', 'lo', '--immediate-mode', '-U', '-n', '-s', '0', '-w', file, filter],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`tcpdump exited ${code}: ${err}`));
    });
  });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => {
          if (process.env.LI_DEBUG_TCPDUMP) console.log('tcpdump:', err);
          resolve();
        });
        // --immediate-mode: without it libpcap holds packets in an unretired ring block and SIGINT loses them.
        // Let the last segments (FIN/ACK) reach the capture before stopping it.
        setTimeout(() => child.kill('SIGINT'), 300);
      }),
  };
}

/** Reads a pcap and runs it through the capture pipeline (IP, TCP reassembly) into the decoders. */
export async function decodePcap(
  file: string,
  factories: StreamDecoderFactory[],
): Promise<Collected & { packets: number }> {
  const sink = collector();
  const capture = createCapture({ factories, sink });
  const read = await readCapture(createReadStream(file), (p) => capture.packet(p));
  capture.end();
  if (!read.ok) throw new Error(`pcap unreadable: ${read.error.reason}`);
  return { ...sink, packets: read.packets };
}

/** What a comparison between two decodings should agree on. */
export function summary(events: Collected['events']): string[] {
  return events.map(
    (e) =>
      `${e.category}|${e.action}|${e.parties.map((p) => `${p.role}:${p.value}`).join(',')}|${e.content?.toString('hex') ?? ''}`,
  );
}
