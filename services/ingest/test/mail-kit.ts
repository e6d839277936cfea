// Shared by the mail/MSNP integration tests: free ports, a recording TCP client, tcpdump on the
// loopback as the traffic oracle, and decoding a pcap through the real capture pipeline.
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { DEFAULT_CAPTURE_BUFFER_KIB } from '../src/adapters/tcpdump.ts';
import { createCapture } from '../src/domain/capture/capture.ts';
import { readCapture } from '../src/domain/capture/pcap.ts';
import type { StreamDecoderFactory } from '../src/domain/stream.ts';
import type { Collected } from '../src/testing/decoder-kit.ts';
import { collector } from '../src/testing/decoder-kit.ts';

export { RecordingClient } from '@li/testing/peers';

/** tcpdump on lo writing a pcap; stop() ends it with SIGINT and waits until the file is complete. */
export async function startTcpdump(file: string, filter: string): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    'tcpdump',
    // -B: the default kernel buffer holds some 16 loopback packets, and a lost one fails the test.
    [
      '-i',
      'lo',
      '--immediate-mode',
      '-U',
      '-n',
      '-B',
      String(DEFAULT_CAPTURE_BUFFER_KIB),
      '-s',
      '0',
      '-w',
      file,
      filter,
    ],
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
