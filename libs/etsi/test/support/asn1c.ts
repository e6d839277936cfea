// Runs the asn1c-built decoders (tools/build-asn1c.ts) on encoded records.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DecoderName, decoderPath } from '../../tools/build-asn1c.ts';
import { parseXer, type XerValue } from './xer.ts';

export interface Asn1cResult {
  status: number | null;
  stderr: string;
  xer: string;
}

export class Asn1c {
  private readonly dir = mkdtempSync(join(tmpdir(), 'li-etsi-asn1c-'));
  private n = 0;
  private readonly bin: string;

  constructor(name: DecoderName) {
    this.bin = decoderPath(name);
  }

  /** Decodes with constraint checks (-c) and XER output; every record in bytes is decoded. */
  run(bytes: Uint8Array): Asn1cResult {
    const file = join(this.dir, `r${this.n++}.ber`);
    writeFileSync(file, bytes);
    const r = spawnSync(this.bin, ['-c', '-iber', '-oxer', file], { encoding: 'utf8' });
    rmSync(file, { force: true });
    return { status: r.status, stderr: r.stderr, xer: r.stdout };
  }

  /**
   * BER decoding only (no -c constraint checks): for PDUs with a CHOICE alternative the asn1c
   * profile leaves out, which asn1c skips as an unknown extension; stdout holds what it decoded.
   */
  runBerOnly(bytes: Uint8Array): Asn1cResult {
    const file = join(this.dir, `r${this.n++}.ber`);
    writeFileSync(file, bytes);
    const r = spawnSync(this.bin, ['-iber', '-oxer', file], { encoding: 'utf8' });
    rmSync(file, { force: true });
    return { status: r.status, stderr: r.stderr, xer: r.stdout };
  }

  /** Decodes one record and returns its XER value; throws with asn1c's message on failure. */
  decode(bytes: Uint8Array): { root: string; value: XerValue } {
    const r = this.run(bytes);
    if (r.status !== 0) throw new Error(`asn1c rejected the record (exit ${r.status}): ${r.stderr.trim()}`);
    const [root, value] = parseXer(r.xer);
    return { root, value };
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
