// bench/encode: records/s of every record type libs/etsi encodes, beside an asn1c-generated C
// encoder (DER, gcc -O2) encoding the same values in the same run, where the ETSI module is
// available. The C driver (c/encode-bench.c) fills its struct by decoding our record, so both
// sides encode the same values; the check line says whether the C DER bytes equal ours (ours is
// BER: a SET OF keeps the order it was given, where DER sorts its elements).
// E-mail (TS 102 232-2) and IP multimedia (TS 102 232-5) modules are not available: our figure only.
// Usage: node encode.ts   (BENCH_SECONDS per case, default 1)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  decodeHi2,
  decodePsPdu,
  EMAIL_FORMAT,
  encodeHi2Iri,
  encodePsPdu,
  FRAME_TYPE,
  MMCC_PROTOCOL,
  PAYLOAD_DIRECTION,
  type Payload,
  type PsPdu,
} from '@li/etsi';
import { SAMPLE_SIP, sampleHeader, sampleHi2Iri, samplePdu } from '@li/etsi/testing';
import { type EncoderName, encoderPath } from './lib/asn1c-encoder.ts';
import { benchDeadline } from './lib/deadline.ts';
import { fmt, printMachine, printRows } from './lib/report.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

/** Content of a given length that starts like an IPv4 packet (version 4, IHL 5). */
const content = (n: number, first = 0x45) => Buffer.concat([Buffer.from([first]), Buffer.alloc(n - 1, 0x5a)]);
const pdu = (payload: Payload): PsPdu => ({ header: sampleHeader(), payload });
const ipcc = (n: number) =>
  pdu({
    kind: 'cc',
    items: [
      {
        payloadDirection: PAYLOAD_DIRECTION.fromTarget,
        contents: { kind: 'iPCC', value: { contents: { kind: 'iPPackets', packets: content(n) } } },
      },
    ],
  });
const ipmmIri = () => {
  const p = samplePdu('ipmmIri');
  const item = p.payload.kind === 'iri' ? p.payload.items[0] : undefined;
  if (item?.contents.kind === 'iPMMIRI' && item.contents.value.contents.kind === 'sIPMessage') {
    // A SIP INVITE with an SDP body: about 480 octets.
    item.contents.value.contents.message.sipContent = Buffer.concat([SAMPLE_SIP, Buffer.alloc(380, 0x61)]);
  }
  return p;
};

interface Case {
  name: string;
  encode: () => Uint8Array;
  /** The asn1c encoder for the type, or why there is none. */
  c: EncoderName | 'none';
}

const psCase = (name: string, value: PsPdu, c: EncoderName | 'none' = 'pspdu'): Case => ({
  name,
  encode: () => encodePsPdu(value),
  c,
});
const hi2Begin = sampleHi2Iri(1);

const CASES: Case[] = [
  psCase('PS-PDU IPIRI (accessAccept)', samplePdu('ipIri')),
  psCase('PS-PDU IPCC 160 B', ipcc(160)),
  psCase('PS-PDU IPCC 1400 B', ipcc(1400)),
  psCase('PS-PDU TRI keep-alive', samplePdu('keepAlive')),
  psCase('PS-PDU TRI integrityCheck', samplePdu('integrityCheck')),
  psCase('PS-PDU EmailIRI (send)', samplePdu('emailIri'), 'none'),
  psCase(
    'PS-PDU EmailCC 1400 B',
    pdu({
      kind: 'cc',
      items: [
        {
          payloadDirection: PAYLOAD_DIRECTION.fromTarget,
          contents: { kind: 'emailCC', value: { format: EMAIL_FORMAT.application, content: content(1400, 0x53) } },
        },
      ],
    }),
    'none',
  ),
  psCase('PS-PDU IPMMIRI (SIP 480 B)', ipmmIri(), 'none'),
  psCase(
    'PS-PDU IPMMCC 160 B',
    pdu({
      kind: 'cc',
      items: [
        {
          payloadDirection: PAYLOAD_DIRECTION.toTarget,
          contents: {
            kind: 'iPMMCC',
            value: {
              mmccContents: content(160, 0x80),
              frameType: FRAME_TYPE.rtpFrame,
              mmccProtocol: MMCC_PROTOCOL.rtp,
            },
          },
        },
      ],
    }),
    'none',
  ),
  { name: 'TS 101 671 HI2 IRI-Begin', encode: () => encodeHi2Iri(hi2Begin), c: 'hi2' },
];

/** Records/s of fn over about SECONDS, after a warm-up. */
function measure(fn: () => Uint8Array): number {
  for (let i = 0; i < 20_000; i++) fn();
  let n = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  let t = t0;
  while (t < end) {
    for (let k = 0; k < 1000; k++) fn();
    n += 1000;
    t = performance.now();
  }
  return n / ((t - t0) / 1000);
}

interface CResult {
  decoded: boolean;
  encoded?: boolean;
  constraintsOk?: boolean;
  length?: number;
  recordsPerSec?: number;
  hex?: string;
}

function runC(name: EncoderName, record: Uint8Array, dir: string): CResult {
  const file = join(dir, 'record.ber');
  writeFileSync(file, record);
  const out = execFileSync(encoderPath(name), [String(SECONDS), file], {
    encoding: 'utf8',
    timeout: (SECONDS * 10 + 60) * 1000, // a stuck C driver fails the benchmark instead of hanging it
  });
  return JSON.parse(out) as CResult;
}

/** Whether our decoder reads the C side's bytes. */
function oursDecodes(c: EncoderName, bytes: Buffer): boolean {
  return c === 'hi2' ? decodeHi2(bytes).ok : decodePsPdu(bytes).ok;
}

benchDeadline('bench/encode', 900);
printMachine();
console.log(`bench/encode: ${SECONDS} s per case; C = asn1c 0.9.28 der_encode_to_buffer, gcc -O2`);
// Build (or find) the C encoders before timing anything.
for (const name of ['pspdu', 'hi2'] as const) encoderPath(name);
const dir = mkdtempSync(join(tmpdir(), 'li-bench-encode-'));
try {
  for (const c of CASES) {
    const bytes = c.encode();
    const ours = measure(c.encode);
    if (c.c === 'none') {
      printRows([{ name: `${c.name} ours`, value: ours, unit: 'records/s' }]);
      console.log(`  ${bytes.length} B; no C reference (module not available)`);
      continue;
    }
    const r = runC(c.c, bytes, dir);
    if (!r.decoded || !r.encoded || r.recordsPerSec === undefined || r.hex === undefined) {
      printRows([{ name: `${c.name} ours`, value: ours, unit: 'records/s' }]);
      console.log(
        `  ${bytes.length} B; C reference failed: asn1c ${r.decoded ? 'could not encode' : 'could not decode'} it`,
      );
      continue;
    }
    printRows([
      { name: `${c.name} ours`, value: ours, unit: 'records/s', reference: r.recordsPerSec },
      { name: `${c.name} C`, value: r.recordsPerSec, unit: 'records/s' },
    ]);
    const cBytes = Buffer.from(r.hex, 'hex');
    const same = cBytes.equals(Buffer.from(bytes));
    let at = 0;
    while (at < bytes.length && bytes[at] === cBytes[at]) at++;
    const check = same
      ? `byte-identical (${bytes.length} B)`
      : `differ from byte ${at}: ours ${bytes.length} B, C ${cBytes.length} B; C output ${oursDecodes(c.c, cBytes) ? 'decodes' : 'does NOT decode'} with ours`;
    console.log(`  check: ${check}; asn1c constraints ${r.constraintsOk ? 'ok' : 'FAILED'}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`done (${fmt(CASES.length)} cases)`);
