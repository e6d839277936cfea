// Builds the independent asn1c decoders used by test/*.int.test.ts (shared/spec/VALIDATING.md §4):
// a PS-PDU decoder (LI-PS-PDU v43 + IPAccessPDU v18 + TS 103 280) and an HI2 IRIsContent
// decoder (TS 101 671 version11, the schema of bookworm's tshark). Each build lands in
// <repo>/.cache/asn1c-<hash>/<name>/progname, where the hash covers the recipe, the asn1c
// version and the module texts, so it is reused until one of them changes.
// Usage: node tools/build-asn1c.ts   (prints the two decoder paths)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The modules are read from the steering repo's shared/spec/asn1 (beside this repo's clone, as
// in CI), not copied here: they are test input only. LI_ASN1_DIR points elsewhere.
const ASN1_DIR = process.env.LI_ASN1_DIR ?? fileURLToPath(new URL('../../../../shared/spec/asn1/', import.meta.url));
const SUBDIRS = ['asn1c-profiles', 'wireshark-4.0.17', '.'];

/** The path of an ASN.1 module of shared/spec/asn1 (profiles first). */
export function moduleFile(name: string): string {
  for (const sub of SUBDIRS) {
    const p = join(ASN1_DIR, sub, name);
    if (existsSync(p)) return p;
  }
  throw new Error(`ASN.1 module ${name} not found under ${ASN1_DIR} (set LI_ASN1_DIR to shared/spec/asn1)`);
}
const CACHE_ROOT = process.env.LI_CACHE_DIR ?? fileURLToPath(new URL('../../../.cache/', import.meta.url));

export const RECIPES = {
  pspdu: {
    pdu: 'PS-PDU',
    files: ['LI-PS-PDU.asn1c-profile.asn', 'IPAccessPDU.asn1c-profile.asn', 'Common-Parameters.asn'],
  },
  hi2: {
    pdu: 'IRIsContent',
    files: [
      'HI2Operations.asn1c-profile.asn',
      'UmtsHI2Operations.asn',
      'TS101909201.asn1c-profile.asn',
      'PCESP.asn',
      'EN301040.asn',
    ],
  },
} as const;

export type DecoderName = keyof typeof RECIPES;

function asn1cVersion(): string {
  try {
    return execFileSync('asn1c', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0] ?? '';
  } catch (e) {
    throw new Error(`asn1c is not installed (apt-get install asn1c): ${(e as Error).message}`);
  }
}

/** Path of the decoder binary, building it first when the cache has none. */
export function decoderPath(name: DecoderName): string {
  const recipe = RECIPES[name];
  const h = createHash('sha256');
  h.update(JSON.stringify(recipe));
  h.update(asn1cVersion());
  for (const f of recipe.files) h.update(readFileSync(moduleFile(f)));
  const dir = join(CACHE_ROOT, `asn1c-${h.digest('hex').slice(0, 16)}`, name);
  const bin = join(dir, 'progname');
  if (existsSync(bin)) return bin;

  mkdirSync(CACHE_ROOT, { recursive: true });
  const tmp = mkdtempSync(join(CACHE_ROOT, `asn1c-build-${name}-`));
  try {
    const run = (cmd: string, args: string[]) => {
      try {
        execFileSync(cmd, args, { cwd: tmp, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
      } catch (e) {
        const err = e as { stderr?: Buffer };
        throw new Error(`${cmd} failed: ${err.stderr?.toString().slice(-2000) ?? String(e)}`);
      }
    };
    run('asn1c', ['-fcompound-names', `-pdu=${recipe.pdu}`, ...recipe.files.map((f) => moduleFile(f))]);
    run('make', ['-f', 'Makefile.am.sample', '-j2']);
    mkdirSync(join(dir, '..'), { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch {
      // Another process finished the same build first; use theirs.
      if (!existsSync(bin)) throw new Error(`could not place decoder in ${dir}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const name of Object.keys(RECIPES) as DecoderName[]) console.log(`${name}: ${decoderPath(name)}`);
}
