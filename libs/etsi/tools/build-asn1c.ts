// Builds the independent asn1c decoders used by test/*.int.test.ts (shared/spec/VALIDATING.md §4):
// a PS-PDU decoder (LI-PS-PDU v43 + IPAccessPDU v18 + TS 103 280) and an HI2 IRIsContent
// decoder (TS 101 671 version11, the schema of bookworm's tshark). Each build lands in
// <repo>/.cache/asn1c-<hash>/<name>/progname, where the hash covers the recipe, the asn1c
// version and the module texts, so it is reused until one of them changes.
// Usage: node tools/build-asn1c.ts   (prints the two decoder paths)
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The ETSI modules are not ours to ship: they are read from LI_ASN1_DIR (a relative path is taken
// from the repository root), by default ../shared/spec/asn1 beside the clone, as in CI. Where they
// are absent, the checks that need them say so by name (asn1cNotRun) instead of failing.
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const ASN1_DIR = resolve(REPO_ROOT, process.env.LI_ASN1_DIR ?? '../shared/spec/asn1');
const SUBDIRS = ['asn1c-profiles', 'wireshark-4.0.17', '.'];

function findModule(name: string): string | null {
  for (const sub of SUBDIRS) {
    const p = join(ASN1_DIR, sub, name);
    if (existsSync(p)) return p;
  }
  return null;
}

/** The path of an ETSI ASN.1 module under ASN1_DIR (profiles first). */
export function moduleFile(name: string): string {
  const p = findModule(name);
  if (p) return p;
  throw new Error(`ASN.1 module ${name} not found under ${ASN1_DIR} (set LI_ASN1_DIR to the ETSI modules' folder)`);
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

/**
 * Null when the modules of every recipe are under ASN1_DIR; otherwise the note of a check that
 * cannot run, for `ctx.skip(note)` (a whole test) or `ctx.annotate(note, 'not-run')` (part of
 * one). scripts/count-reporter.ts counts these apart from passed and skipped tests, and
 * scripts/test-summary.ts lists them by name. Keep the form "not run: <check> (<reason>)".
 */
export function asn1cNotRun(check: string): string | null {
  const files = Object.values(RECIPES).flatMap((r) => [...r.files]);
  if (files.every((f) => findModule(f) !== null)) return null;
  return `not run: ${check} (no ETSI ASN.1 modules at ${ASN1_DIR})`;
}

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
