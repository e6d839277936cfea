// File names for HI2 file delivery (HI2-HI3-delivery.md §7, IT-PROFILE §3: naming not public,
// so the pattern is per-LEMF config). Placeholders: {liid} {seq} {seq:N} (zero-padded) {ts} {lemf}.
import { fail, ok, type Result } from '../errors.ts';

export interface NameVars {
  liid: string;
  seq: number;
  /** epoch milliseconds */
  ts: number;
  lemf: string;
}

const PLACEHOLDER = /\{([a-z]+)(?::(\d{1,2}))?\}/g;
const KNOWN = new Set(['liid', 'seq', 'ts', 'lemf']);
// A file name, never a path: no separators, no leading dot (our temporary names use one), no control chars.
const SAFE_NAME = /^[A-Za-z0-9_\-+=][A-Za-z0-9_\-+=.]{0,199}$/;

/** UTC YYYYMMDDhhmmssSSS: sortable, no separators unsafe on FTP servers. */
export function compactUtc(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}` +
    `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${p(d.getUTCMilliseconds(), 3)}`
  );
}

export function validatePattern(pattern: string): Result<void> {
  for (const m of pattern.matchAll(PLACEHOLDER)) {
    if (!KNOWN.has(m[1] ?? '')) return fail('DLV_ERR_BAD_CONFIG', `unknown placeholder {${m[1]}} in file name pattern`);
  }
  if (!pattern.includes('{seq'))
    return fail('DLV_ERR_BAD_CONFIG', 'file name pattern needs {seq} so names never repeat');
  const probe = formatFileName(pattern, { liid: 'L', seq: 1, ts: 0, lemf: 'x' });
  return probe.ok ? ok(undefined) : probe;
}

export function formatFileName(pattern: string, vars: NameVars): Result<string> {
  const name = pattern.replace(PLACEHOLDER, (whole, key: string, width: string | undefined) => {
    switch (key) {
      case 'liid':
        return vars.liid;
      case 'lemf':
        return vars.lemf;
      case 'ts':
        return compactUtc(vars.ts);
      case 'seq':
        return width ? String(vars.seq).padStart(Number(width), '0') : String(vars.seq);
      default:
        return whole;
    }
  });
  if (!SAFE_NAME.test(name) || name.includes('..')) return fail('DLV_ERR_BAD_FILE_NAME', 'unsafe characters in name');
  return ok(name);
}
