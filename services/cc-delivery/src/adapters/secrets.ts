// LEMF credentials and certificates from mounted secret files: <secretsDir>/<tenant>/<ref>.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSecretRef } from '@li/schemas';
import type { SecretResolver } from './transport-factory.ts';

/** Looks only in a served tenant's own directory, by a plain name: never a path out of it. */
export function secretFiles(secretsDir: string, tenants: readonly string[]): SecretResolver {
  return (tenant, ref) => {
    if (!tenants.includes(tenant) || !isSecretRef(ref)) return null;
    try {
      return readFileSync(join(secretsDir, tenant, ref));
    } catch {
      return null;
    }
  };
}
