// Reads a pcap/pcapng file from disk into the capture pipeline.
import { createReadStream } from 'node:fs';
import type { Capture } from '../domain/capture/capture.ts';
import { type CapturedPacket, type ReadResult, readCapture } from '../domain/capture/pcap.ts';

/** Streams a capture file; onPacket sees every record in file order. I/O errors become a typed result. */
export async function readPcapFile(path: string, onPacket: (p: CapturedPacket) => void): Promise<ReadResult> {
  try {
    return await readCapture(createReadStream(path, { highWaterMark: 1024 * 1024 }), onPacket);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    return {
      ok: false,
      packets: 0,
      error: { code: 'ING_ERR_PCAP_TRUNCATED', reason: `capture file unreadable (${code})` },
    };
  }
}

/** Replays a whole file through a capture and ends its flows at the end of the file. */
export async function replayPcapFile(path: string, capture: Capture): Promise<ReadResult> {
  const r = await readPcapFile(path, (p) => capture.packet(p));
  capture.end();
  return r;
}
