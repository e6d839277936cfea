// Builds the C reference of bench/encode.ts: asn1c-generated encoders for the ETSI modules we
// have (LI-PS-PDU v43 + IPAccessPDU v18 + TS 103 280, and TS 101 671 HI2Operations version11,
// the same module sets as libs/etsi/tools/build-asn1c.ts uses for its decoders) linked with
// bench/c/encode-bench.c, built with gcc -O2. The binary is cached in
// <repo>/.cache/bench-asn1c-<hash>/<name>/encode-bench, the hash covering the module texts, the
// driver, the asn1c and gcc versions and the flags, so it is rebuilt only when one changes.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DecoderName, moduleFile, RECIPES } from '@li/etsi/asn1c-build';

const CACHE_ROOT = process.env.LI_CACHE_DIR ?? fileURLToPath(new URL('../../.cache/', import.meta.url));
const DRIVER = fileURLToPath(new URL('../c/encode-bench.c', import.meta.url));
const CFLAGS = ['-O2', '-w'];

// The same module sets as the asn1c decoders of libs/etsi (RECIPES), compiled here for their encoders.
export type EncoderName = DecoderName;

function version(cmd: string, args: string[]): string {
  try {
    return (
      execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 }).split(
        '\n',
      )[0] ?? ''
    );
  } catch (e) {
    throw new Error(`${cmd} is not installed (apt-get install asn1c gcc): ${(e as Error).message}`);
  }
}

function run(cwd: string, cmd: string, args: string[]): void {
  try {
    // Synchronous, so the benchmark's deadline timer cannot fire meanwhile: bounded here.
    execFileSync(cmd, args, {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      timeout: 600_000,
    });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    throw new Error(`${cmd} failed: ${err.stderr?.toString().slice(-2000) ?? String(e)}`);
  }
}

/** Path of the encoder benchmark binary, generating and compiling it first when not cached. */
export function encoderPath(name: EncoderName): string {
  const recipe = RECIPES[name];
  const h = createHash('sha256');
  h.update(JSON.stringify({ recipe, CFLAGS }));
  h.update(version('asn1c', ['-v']));
  h.update(version('gcc', ['--version']));
  h.update(readFileSync(DRIVER));
  for (const f of recipe.files) h.update(readFileSync(moduleFile(f)));
  const dir = join(CACHE_ROOT, `bench-asn1c-${h.digest('hex').slice(0, 16)}`, name);
  const bin = join(dir, 'encode-bench');
  if (existsSync(bin)) return bin;

  mkdirSync(CACHE_ROOT, { recursive: true });
  const tmp = mkdtempSync(join(CACHE_ROOT, `bench-asn1c-build-${name}-`));
  try {
    run(tmp, 'asn1c', ['-fcompound-names', `-pdu=${recipe.pdu}`, ...recipe.files.map(moduleFile)]);
    const sources = readdirSync(tmp).filter((f) => f.endsWith('.c') && f !== 'converter-sample.c');
    const pdu = recipe.pdu.replaceAll('-', '_');
    run(tmp, 'gcc', [...CFLAGS, '-I.', `-DBENCH_PDU=${pdu}`, '-o', 'encode-bench', DRIVER, ...sources]);
    mkdirSync(join(dir, '..'), { recursive: true });
    try {
      renameSync(tmp, dir);
    } catch {
      if (!existsSync(bin)) throw new Error(`could not place the encoder in ${dir}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}
