// Real decoders for what the LEMF side received: the asn1c PS-PDU decoder built from
// shared/spec/asn1 (VALIDATING.md §4) and tshark's HI2Operations dissector (§2-3).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SPEC = fileURLToPath(new URL('../../../../../shared/spec/', import.meta.url));
const MODULES = [
  'asn1/asn1c-profiles/LI-PS-PDU.asn1c-profile.asn',
  'asn1/asn1c-profiles/IPAccessPDU.asn1c-profile.asn',
  'asn1/Common-Parameters.asn',
].map((m) => join(SPEC, m));

/** Builds (once per module set, cached in tmp) the asn1c PS-PDU decoder and returns its path. */
export function psPduDecoder(): string {
  const hash = createHash('sha256');
  for (const m of MODULES) hash.update(readFileSync(m));
  const dir = join(tmpdir(), `li-dlv-pspdu-dec-${hash.digest('hex').slice(0, 12)}`);
  const bin = join(dir, 'progname');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  // flock: parallel test runs share one build
  execFileSync(
    'flock',
    [
      join(dir, '.lock'),
      'sh',
      '-c',
      `[ -x progname ] || { asn1c -fcompound-names -pdu=PS-PDU ${MODULES.join(' ')} && make -f Makefile.am.sample -j2; } >build.log 2>&1`,
    ],
    { cwd: dir, stdio: 'ignore' },
  );
  return bin;
}

export interface DecodedPsPdu {
  liid: string;
  cin: number;
  seq: number;
}

/** Decodes a concatenation of PS-PDUs with constraint checks; throws if any record fails. */
export function decodePsPdus(stream: Buffer): DecodedPsPdu[] {
  if (stream.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'li-dlv-dec-'));
  try {
    const file = join(dir, 'in.ber');
    writeFileSync(file, stream);
    const bin = psPduDecoder();
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
