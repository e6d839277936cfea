// Throughput of the whole decode path (pcap reader → link/IP → TCP reassembly → SIP decoder)
// on an in-memory capture. Pure: the caller supplies the capture and reports the figure.

import { createCapture } from '../domain/capture/capture.ts';
import { CaptureReader } from '../domain/capture/pcap.ts';
import { sipDatagramHandler, sipStreamFactory } from '../domain/sip/decoder.ts';

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
