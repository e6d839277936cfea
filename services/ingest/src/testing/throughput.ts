// Throughput of the whole decode path (pcap reader → link/IP → TCP reassembly → SIP decoder)
// on an in-memory capture. Pure: the caller supplies the capture and reports the figure.

import { createCapture, type Datagram } from '../domain/capture/capture.ts';
import { CaptureReader } from '../domain/capture/pcap.ts';
import { MediaTracker } from '../domain/media/tracker.ts';
import { sipDatagramHandler, sipStreamFactory } from '../domain/sip/decoder.ts';
import type { DecodedEvent } from '../domain/stream.ts';

export interface Throughput {
  packets: number;
  events: number;
  problems: number;
  millis: number;
  packetsPerSecond: number;
  megabytesPerSecond: number;
}

export function measureThroughput(pcap: Buffer, chunkBytes = 64 * 1024): Throughput {
  let events = 0;
  let problems = 0;
  const sink = {
    event: () => {
      events++;
    },
    problem: () => {
      problems++;
    },
  };
  const cap = createCapture({ factories: [sipStreamFactory()], onDatagram: sipDatagramHandler(sink), sink });
  const reader = new CaptureReader();
  const t0 = performance.now();
  for (let o = 0; o < pcap.length; o += chunkBytes) {
    reader.push(pcap.subarray(o, o + chunkBytes), (p) => cap.packet(p));
  }
  reader.end();
  cap.end();
  const millis = performance.now() - t0;
  return {
    packets: reader.packets,
    events,
    problems,
    millis,
    packetsPerSecond: Math.round(reader.packets / (millis / 1000)),
    megabytesPerSecond: Math.round((pcap.length / 1e6 / (millis / 1000)) * 10) / 10,
  };
}

export interface MediaThroughput {
  packets: number;
  /** Media events out (tapped calls' packets). */
  mediaEvents: number;
  sipEvents: number;
  millis: number;
  packetsPerSecond: number;
}

/**
 * The capture path with media following: every SIP event goes through the MediaTracker, every
 * datagram is looked up; `tapped` lists the calls whose taps arrived before their traffic. Each
 * event out is Avro-encoded as the publisher would (the tapped path's main extra cost).
 */
export function measureMediaThroughput(
  pcap: Buffer,
  o: { tapped: readonly string[]; follow: boolean; encode: (e: DecodedEvent) => unknown },
  chunkBytes = 64 * 1024,
): MediaThroughput {
  let mediaEvents = 0;
  let sipEvents = 0;
  const now = Date.now();
  const tracker = new MediaTracker({ pendingMs: 0 });
  for (const id of o.tapped) tracker.tap(id, { expiresAtMicros: Number.MAX_SAFE_INTEGER }, now);
  const out = {
    event: (e: DecodedEvent) => {
      if (e.category === 'MEDIA') mediaEvents++;
      else sipEvents++;
      o.encode(e);
    },
    problem: () => undefined,
  };
  const sink = o.follow
    ? {
        event: (e: DecodedEvent) => {
          tracker.signal(e, now);
          out.event(e);
        },
        problem: out.problem,
      }
    : out;
  const sip = sipDatagramHandler(sink);
  const onDatagram = o.follow
    ? (d: Datagram) => {
        const media = tracker.datagram(d, now);
        if (media === null) sip(d);
        else for (const e of media) out.event(e);
      }
    : sip;
  const cap = createCapture({ factories: [sipStreamFactory()], onDatagram, sink });
  const reader = new CaptureReader();
  const t0 = performance.now();
  for (let off = 0; off < pcap.length; off += chunkBytes) {
    reader.push(pcap.subarray(off, off + chunkBytes), (p) => cap.packet(p));
  }
  reader.end();
  cap.end();
  const millis = performance.now() - t0;
  return {
    packets: reader.packets,
    mediaEvents,
    sipEvents,
    millis,
    packetsPerSecond: Math.round(reader.packets / (millis / 1000)),
  };
}
