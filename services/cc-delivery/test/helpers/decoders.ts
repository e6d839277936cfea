// Real decoders for what the LEMF side received: the asn1c PS-PDU decoder of @li/etsi, built
// from the ETSI modules (LI_ASN1_DIR, VALIDATING.md §4), and tshark's HI2Operations dissector
// (§2-3). Without the modules, PS-PDUs are read by our own decoder and the test is annotated as
// not having run the asn1c check (scripts/test-summary.ts lists it).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePsPdu } from '@li/etsi';
import { asn1cNotRun, decoderPath } from '@li/etsi/asn1c-build';
import { getCurrentTest } from 'vitest/suite';

const NOT_RUN = asn1cNotRun('asn1c decoding of delivered PS-PDUs');

/** Builds (once, cached under <repo>/.cache) the asn1c PS-PDU decoder; nothing without the modules. */
export function psPduDecoder(): string | null {
  return NOT_RUN ? null : decoderPath('pspdu');
}

export interface DecodedPsPdu {
  liid: string;
  cin: number;
  seq: number;
}

/** Decodes a concatenation of PS-PDUs (asn1c with constraint checks); throws if any record fails. */
export function decodePsPdus(stream: Buffer): DecodedPsPdu[] {
  if (stream.length === 0) return [];
  if (NOT_RUN) return decodeOwn(stream, NOT_RUN);
  const dir = mkdtempSync(join(tmpdir(), 'li-dlv-dec-'));
  try {
    const file = join(dir, 'in.ber');
    writeFileSync(file, stream);
    const bin = decoderPath('pspdu');
    const check = spawnSync(bin, ['-c', '-iber', '-onull', file], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`asn1c decoder rejected the stream: ${check.stderr.slice(0, 300)}`);
    const xer = execFileSync(bin, ['-iber', '-oxer', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    const out: DecodedPsPdu[] = [];
    for (const pdu of xer.split('<PS-PDU>').slice(1)) {
      const liidHex = /<lawfulInterceptionIdentifier>([^<]*)</.exec(pdu)?.[1] ?? '';
      out.push({
        liid: Buffer.from(liidHex.replace(/\s+/g, ''), 'hex').toString('ascii'),
        cin: Number(/<communicationIdentityNumber>(\d+)</.exec(pdu)?.[1]),
        seq: Number(/<sequenceNumber>(\d+)</.exec(pdu)?.[1]),
      });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const annotated = new WeakSet<object>();

/** The same view through libs/etsi's decoder; the running test is marked as lacking the asn1c check. */
function decodeOwn(stream: Buffer, note: string): DecodedPsPdu[] {
  const test = getCurrentTest();
  if (test && !annotated.has(test)) {
    annotated.add(test);
    void test.context.annotate(note, 'not-run');
  }
  const out: DecodedPsPdu[] = [];
  for (let rest = stream; rest.length > 0; ) {
    const d = decodePsPdu(rest);
    if (!d.ok) throw new Error(`PS-PDU rejected: ${d.reason}`);
    const h = d.value.header;
    out.push({ liid: h.liid, cin: h.communicationIdentifier.cin ?? Number.NaN, seq: h.sequenceNumber });
    rest = rest.subarray(d.bytesRead);
  }
  return out;
}

/** Runs tshark's HI2Operations dissector over each record; returns LIID per record, throws on malformed. */
export function decodeHi2WithTshark(records: Buffer[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'li-dlv-hi2-'));
  try {
    // one packet per record (VALIDATING.md §2), via text2pcap's exported-PDU link type
    const hex = records
      .map((r) => {
        const lines: string[] = [];
        for (let i = 0; i < r.length; i += 16) {
          lines.push(
            `${i.toString(16).padStart(6, '0')} ${[...r.subarray(i, i + 16)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`,
          );
        }
        return lines.join('\n');
      })
      .join('\n');
    writeFileSync(join(dir, 'in.txt'), `${hex}\n`);
    execFileSync('text2pcap', ['-q', '-P', 'HI2Operations', join(dir, 'in.txt'), join(dir, 'in.pcap')]);
    const bad = execFileSync(
      'tshark',
      ['-r', join(dir, 'in.pcap'), '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'],
      { encoding: 'utf8' },
    );
    if (bad.trim()) throw new Error(`tshark: malformed HI2 records:\n${bad.slice(0, 500)}`);
    const fields = execFileSync(
      'tshark',
      ['-r', join(dir, 'in.pcap'), '-T', 'fields', '-e', 'HI2Operations.lawfulInterceptionIdentifier'],
      { encoding: 'utf8' },
    );
    return fields
      .trim()
      .split('\n')
      .map((h) => Buffer.from(h.replace(/:/g, ''), 'hex').toString('ascii'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
