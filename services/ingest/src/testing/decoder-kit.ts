// Test support for the stream decoders (imported by *.test.ts only): a collecting sink and a
// feeder that replays a transcript in order, optionally cut into arbitrary chunks. The sink
// refuses an event whose action is not in the shared vocabulary (EVENT_ACTIONS), so every decoder
// test also checks that what ingest writes is what the encoder and mcid-store expect to read.
import { isKnownAction } from '@li/schemas';
import type {
  DecodedEvent,
  DecodeProblem,
  DecoderSink,
  FlowEndpoints,
  StreamDecoder,
  StreamDecoderFactory,
} from '../domain/stream.ts';

export interface Collected extends DecoderSink {
  events: DecodedEvent[];
  problems: DecodeProblem[];
}

export function collector(): Collected {
  const events: DecodedEvent[] = [];
  const problems: DecodeProblem[] = [];
  return {
    events,
    problems,
    event: (e) => {
      if (!isKnownAction(e.category, e.action)) {
        throw new Error(`action ${e.action} is not in EVENT_ACTIONS.${e.category} (libs/schemas/src/traits.ts)`);
      }
      events.push(e);
    },
    problem: (p) => problems.push(p),
  };
}

export function flow(serverPort: number): FlowEndpoints {
  return {
    transport: 'tcp',
    clientAddress: '192.0.2.10',
    clientPort: 50123,
    serverAddress: '198.51.100.5',
    serverPort,
  };
}

/** 'C' lines go client→server, 'S' lines server→client. */
export type Step = readonly ['C' | 'S', string | Buffer];

export function replay(
  factory: StreamDecoderFactory,
  port: number,
  steps: readonly Step[],
  cut: (len: number) => number[] = () => [],
): Collected {
  const sink = collector();
  const decoder = factory(flow(port), sink) as StreamDecoder;
  if (!decoder) throw new Error('factory declined the flow');
  let ts = 1_700_000_000_000_000;
  for (const [side, text] of steps) {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    const cuts = cut(bytes.length)
      .filter((c) => c > 0 && c < bytes.length)
      .sort((a, b) => a - b);
    let prev = 0;
    for (const c of [...cuts, bytes.length]) {
      decoder.data(side === 'C' ? 'toServer' : 'toClient', bytes.subarray(prev, c), ts++);
      prev = c;
    }
  }
  decoder.end(ts);
  return sink;
}
