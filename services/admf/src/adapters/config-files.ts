// Reads admf's tariffs file for service.ts; the parsing rules are in the domain.
import { readFile } from 'node:fs/promises';
import type { TariffTable } from '../domain/billing.ts';
import { parseTariffs } from '../domain/billing.ts';
import type { Result } from '../errors.ts';
import { errResult } from '../errors.ts';

const DEFAULT_TARIFFS_PATH = new URL('../../config/tariffs.json', import.meta.url);

export async function loadTariffs(path: string | URL = DEFAULT_TARIFFS_PATH): Promise<Result<TariffTable>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    return errResult('ADM_ERR_VALIDATION', `tariffs file unreadable: ${(e as Error).message}`, 'tariffs');
  }
  return parseTariffs(raw);
}
