// Wraps records in a pcap with the "exported PDU" link type (text2pcap -P) and runs tshark,
// as shared/spec/VALIDATING.md §2-3 describes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function hexdump(rec: Uint8Array): string {
  let out = '';
  for (let k = 0; k < rec.length; k += 16) {
    out += k.toString(16).padStart(6, '0');
    for (let i = k; i < Math.min(k + 16, rec.length); i++) out += ' ' + rec[i]!.toString(16).padStart(2, '0');
    out += '\n';
  }
  return out + '\n';
}

export class Tshark {
  private readonly dir = mkdtempSync(join(tmpdir(), 'li-etsi-tshark-'));

  /** One packet per record, dissected by the named dissector. Returns the pcap path. */
  pcap(records: Uint8Array[], dissector: string): string {
    const txt = join(this.dir, 'in.txt');
    const pcap = join(this.dir, `${dissector}.pcap`);
    writeFileSync(txt, records.map(hexdump).join(''));
    execFileSync('text2pcap', ['-q', '-P', dissector, txt, pcap], { stdio: ['ignore', 'ignore', 'pipe'] });
    return pcap;
  }

  /** Field values, one row per packet, one column per field (occurrences joined by ','). */
  fields(pcap: string, fields: string[]): string[][] {
    const args = ['-r', pcap, '-T', 'fields', '-E', 'separator=\t'];
    for (const f of fields) args.push('-e', f);
    const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t'));
  }

  /** Number of packets with a malformed-packet mark or an expert warning/error (0 = clean). */
  problems(pcap: string): number {
    const r = spawnSync('tshark', ['-r', pcap, '-Y', '_ws.malformed || _ws.expert.severity >= "warning"'], {
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
    return r.stdout.split('\n').filter((l) => l.trim() !== '').length;
  }

  /** The full text tree (-V) for debugging and tree checks. */
  verbose(pcap: string): string {
    return execFileSync('tshark', ['-r', pcap, '-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
