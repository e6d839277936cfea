// The token table as a mounted file (YAML or JSON, JSON being YAML): read once at start.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { TokenAuthenticator } from './tokens.ts';

/**
 * Reads and checks the token file. Throws an Error naming the file and the bad entry (by
 * subject, never by token), so a service stops at start rather than serving without it.
 */
export function loadTokenFile(path: string): TokenAuthenticator {
  let table: unknown;
  try {
    table = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? 'not YAML or JSON';
    throw new Error(`token file ${path}: cannot be read (${why})`);
  }
  const a = TokenAuthenticator.fromTable(table);
  if (!a.ok) throw new Error(`token file ${path}: ${a.error.message}`);
  return a.value;
}
