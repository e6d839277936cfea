// An asn1c decoder of PacketCable's PCESP module (CdcPdu), built from PCESP.asn under LI_ASN1_DIR
// (shared/spec/asn1/wireshark-4.0.17) the way @li/etsi builds its decoders (VALIDATING.md §4), and
// cached under <repo>/.cache. Without the module the check is reported as not run, by name.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASN1_DIR } from '@li/etsi/asn1c-build';

const MODULE = join(ASN1_DIR, 'wireshark-4.0.17', 'PCESP.asn');
const CACHE_ROOT = process.env.LI_CACHE_DIR ?? fileURLToPath(new URL('../../../../.cache/', import.meta.url));

/** Null when the module is there; else the "not run: …" note for ctx.skip / ctx.annotate. */
export function pcespNotRun(check: string): string | null {
  return existsSync(MODULE) ? null : `not run: ${check} (no PCESP.asn at ${MODULE})`;
}

function decoderPath(): string {
  const h = createHash('sha256');
  h.update(execFileSync('asn1c', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  h.update(readFileSync(MODULE));
  const dir = join(CACHE_ROOT, `asn1c-${h.digest('hex').slice(0, 16)}`, 'pcesp');
  const bin = join(dir, 'progname');
  if (existsSync(bin)) return bin;
  mkdirSync(CACHE_ROOT, { recursive: true });
  const tmp = mkdtempSync(join(CACHE_ROOT, 'asn1c-build-pcesp-'));
  try {
    const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: tmp, stdio: 'ignore' });
    run('asn1c', ['-fcompound-names', '-pdu=CdcPdu', MODULE]);
    run('make', ['-f', 'Makefile.am.sample', '-j2']);
    mkdirSync(join(dir, '..'), { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch {
      if (!existsSync(bin)) throw new Error(`could not place decoder in ${dir}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

/**
 * Decodes a concatenation of CdcPdu records with constraint checks (-c) and returns asn1c's XER,
 * one string per record; throws with asn1c's message when any record fails.
 */
export function decodeCdcPdus(stream: Uint8Array): string[] {
  const bin = decoderPath();
  const dir = mkdtempSync(join(tmpdir(), 'li-pcesp-'));
  try {
    const file = join(dir, 'cdc.ber');
    writeFileSync(file, stream);
    const r = spawnSync(bin, ['-c', '-iber', '-oxer', file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`asn1c PCESP decoder rejected the CDC stream: ${r.stderr.slice(0, 300)}`);
    return r.stdout.split('<CdcPdu>').slice(1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
