// Reads a pcap/pcapng file from disk into the capture pipeline.
import { createReadStream } from 'node:fs';
import type { Capture } from '../domain/capture/capture.ts';
import { type CapturedPacket, CaptureReader, type ReadResult, readCapture } from '../domain/capture/pcap.ts';

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

export interface ReplayPacing {
  /** Times real time (1: as captured, 2: twice as fast); 0: as fast as the file reads. */
  speed: number;
  /** Wall time (ms) the first packet was handed over: packet at ts goes at start + (ts - ts0) / speed. */
  onStart?: (wallMs: number) => void;
  /** Awaited after each chunk read: lets a consumer that cannot keep up slow the read down. */
  between?: () => Promise<void>;
}

/** Replays a whole file through a capture and ends its flows at the end of the file. */
export async function replayPcapFile(path: string, capture: Capture, pacing?: ReplayPacing): Promise<ReadResult> {
  const r =
    pacing && (pacing.speed > 0 || pacing.between)
      ? await pacedReplay(path, capture, pacing)
      : await readPcapFile(path, (p) => capture.packet(p));
  capture.end();
  return r;
}

async function pacedReplay(path: string, capture: Capture, pacing: ReplayPacing): Promise<ReadResult> {
  const reader = new CaptureReader();
  let startMs = 0;
  let ts0 = 0;
  const batch: CapturedPacket[] = [];
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
      const err = reader.push(chunk as Buffer, (p) => batch.push(p));
      for (const p of batch) {
        if (startMs === 0) {
          startMs = Date.now();
          ts0 = p.tsMicros;
          pacing.onStart?.(startMs);
        }
        if (pacing.speed > 0) {
          const wait = startMs + (p.tsMicros - ts0) / 1000 / pacing.speed - Date.now();
          if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
        }
        capture.packet(p);
      }
      batch.length = 0;
      await pacing.between?.();
      if (err) return { ok: false, packets: reader.packets, error: err };
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
    return {
      ok: false,
      packets: 0,
      error: { code: 'ING_ERR_PCAP_TRUNCATED', reason: `capture file unreadable (${code})` },
    };
  }
  const err = reader.end();
  return err ? { ok: false, packets: reader.packets, error: err } : { ok: true, packets: reader.packets };
}
