// Quick local encode/decode throughput (records/s) for typical records; the formal benchmark is
// the lead's (bench/). Usage: node tools/bench-encode.ts [seconds-per-case]
import { decodePsPdu, encodeHi2Iri, encodePsPdu, type PsPdu } from '../src/index.ts';
import { SAMPLE_SIP, sampleHeader, sampleHi2Iri, samplePdu } from '../src/testing.ts';

const seconds = Number(process.argv[2] ?? 1);
const rtp = Buffer.alloc(200, 0x80);
const sip = Buffer.concat([SAMPLE_SIP, Buffer.alloc(400, 0x41)]);

function ipmmIri(seq: number): PsPdu {
  const p = samplePdu('ipmmIri', { sequenceNumber: seq });
  const item = p.payload.kind === 'iri' ? p.payload.items[0]! : undefined;
  if (item?.contents.kind === 'iPMMIRI' && item.contents.value.contents.kind === 'sIPMessage') {
    item.contents.value.contents.message.sipContent = sip;
  }
  return p;
}

function ipmmCc(seq: number): PsPdu {
  return {
    header: sampleHeader({ sequenceNumber: seq }),
    payload: {
      kind: 'cc',
      items: [
        {
          payloadDirection: 0,
          contents: { kind: 'iPMMCC', value: { mmccContents: rtp, frameType: 2, mmccProtocol: 0 } },
        },
      ],
    },
  };
}

function run(name: string, fn: (i: number) => number): void {
  // Warm up, then count for the given time.
  for (let i = 0; i < 20_000; i++) fn(i);
  const end = performance.now() + seconds * 1000;
  let n = 0;
  let bytes = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    for (let k = 0; k < 1000; k++) bytes += fn(n++);
  }
  const dt = (performance.now() - t0) / 1000;
  console.log(
    `${name.padEnd(34)} ${Math.round(n / dt)
      .toLocaleString('en')
      .padStart(10)} records/s  (${Math.round(bytes / n)} B each)`,
  );
}

run('encode IPMMIRI (SIP 480 B)', (i) => encodePsPdu(ipmmIri(i)).length);
run('encode IPMMCC (RTP 200 B)', (i) => encodePsPdu(ipmmCc(i)).length);
run('encode EmailIRI', (i) => encodePsPdu(samplePdu('emailIri', { sequenceNumber: i })).length);
run('encode HI2 IRI-Begin (TS 101 671)', () => encodeHi2Iri(sampleHi2Iri(1)).length);
const enc = encodePsPdu(ipmmIri(1));
run('decode IPMMIRI', () => (decodePsPdu(enc).ok ? enc.length : 0));
