// Live capture through the tcpdump binary: `tcpdump -i <if> -U -w - <bpf>` writes pcap to its
// stdout, which streams into the pure-TS reader. No native addon; tcpdump needs CAP_NET_RAW.
import { spawn } from 'node:child_process';
import { type CapturedPacket, type CaptureFormatError, CaptureReader } from '../domain/capture/pcap.ts';
import type { IngestErrorCode } from '../errors.ts';

export interface TcpdumpOptions {
  interface: string;
  /** BPF filter expression, passed as one argument (tcpdump parses it). */
  filter?: string;
  snaplen?: number;
  /** The kernel's capture buffer (tcpdump -B), KiB; default DEFAULT_CAPTURE_BUFFER_KIB. */
  bufferKiB?: number;
  /** Path of the binary; default "tcpdump" on PATH. */
  command?: string;
  onPacket: (p: CapturedPacket) => void;
  /** tcpdump's count of packets the kernel dropped so far (they never reached the capture). */
  onKernelDrops?: (total: number) => void;
}

interface TcpdumpResult {
  packets: number;
  exitCode: number | null;
  /** A broken pcap stream or a failure to start. */
  error: CaptureFormatError | { code: Extract<IngestErrorCode, 'ING_ERR_TCPDUMP'>; reason: string } | null;
}

export interface TcpdumpCapture {
  /** Resolves once tcpdump reports it is listening (packets before that are not seen). */
  ready: Promise<void>;
  /** Resolves when tcpdump exits and its output was read completely. */
  done: Promise<TcpdumpResult>;
  /** Asks tcpdump to stop (SIGTERM flushes its buffer). */
  stop(): void;
  /** Asks tcpdump for its statistics (SIGUSR1), which reach onKernelDrops. Only after `ready`. */
  requestStats(): void;
}

/** The last "N packets dropped by kernel" in tcpdump's statistics text; null when there is none. */
export function kernelDrops(text: string): number | null {
  let last: number | null = null;
  for (const m of text.matchAll(/(\d+) packets? dropped by kernel/g)) last = Number(m[1]);
  return last;
}

/**
 * The kernel ring tcpdump reads from. libpcap's default (2 MiB) holds some 16 packets on the
 * loopback (a slot per packet, sized by the snapshot length up to its 64 KiB MTU): a burst while
 * tcpdump waits for us to read its pipe overflowed it, and the lost segments became
 * ING_ERR_STREAM_GAP dead letters.
 */
export const DEFAULT_CAPTURE_BUFFER_KIB = 32 * 1024;

/** tcpdump's arguments: pcap to stdout, flushed per packet. */
export function tcpdumpArgs(opts: Omit<TcpdumpOptions, 'onPacket' | 'command'>): string[] {
  // --immediate-mode: without it TPACKET_V3 holds packets in the ring until a block times out,
  // and a stop in between loses them. -U flushes each packet to the pipe.
  const args = [
    '-i',
    opts.interface,
    '-U',
    '--immediate-mode',
    '-n',
    '-B',
    String(opts.bufferKiB ?? DEFAULT_CAPTURE_BUFFER_KIB),
    '-s',
    String(opts.snaplen ?? 262144),
    '-w',
    '-',
  ];
  if (opts.filter) args.push(opts.filter);
  return args;
}

export function startTcpdump(opts: TcpdumpOptions): TcpdumpCapture {
  const child = spawn(opts.command ?? 'tcpdump', tcpdumpArgs(opts), { stdio: ['ignore', 'pipe', 'pipe'] });
  const reader = new CaptureReader();
  let error: TcpdumpResult['error'] = null;
  let stderr = '';
  let resolveReady: () => void = () => {};
  const ready = new Promise<void>((res) => {
    resolveReady = res;
  });
  let line = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s;
    if (stderr.includes('listening on')) resolveReady();
    // Statistics come at SIGUSR1 (one line) and at exit (a line each): read whole lines.
    const lines = (line + s).split('\n');
    line = (lines.pop() ?? '').slice(-256);
    const dropped = kernelDrops(lines.join('\n'));
    if (dropped !== null) opts.onKernelDrops?.(dropped);
  });
  child.stdout.on('data', (chunk: Buffer) => {
    if (error) return;
    const e = reader.push(chunk, opts.onPacket);
    if (e) {
      error = e;
      child.kill('SIGTERM');
    }
  });
  const done = new Promise<TcpdumpResult>((resolve) => {
    child.on('error', (err) => {
      error = {
        code: 'ING_ERR_TCPDUMP',
        reason: `tcpdump failed to start: ${(err as NodeJS.ErrnoException).code ?? err.name}`,
      };
    });
    child.on('close', (exitCode) => {
      resolveReady();
      // A capture stopped by us may end mid-record; only report a format error seen before.
      if (!error && exitCode !== 0 && exitCode !== null && reader.packets === 0 && !stderr.includes('listening on')) {
        error = { code: 'ING_ERR_TCPDUMP', reason: `tcpdump exited with ${exitCode}: ${stderr.split('\n')[0] ?? ''}` };
      }
      resolve({ packets: reader.packets, exitCode, error });
    });
  });
  return {
    ready,
    done,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    requestStats() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGUSR1');
    },
  };
}
