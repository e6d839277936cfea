// The router's rule: which LEMFs get a copy of a record of li.<t>.hi2/hi3/reports. Its li.lemfs
// header (set by the encoder from the warrant) names them; each named LEMF gets one copy, in its
// own queue, unless the LEMF was removed. The copy's li.lemfs names only that LEMF, so a LEMF's
// queue never tells which other LEMFs got the same record.

// admf's rule for LEMF ids (no dots: a LEMF's topic and group names cannot run into another's).
const LEMF_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface RoutableRecord {
  headers: Record<string, string>;
}

interface RoutedCopy<R> {
  record: R;
  lemfId: string;
  headers: Record<string, string>;
}

export interface Routing<R> {
  copies: RoutedCopy<R>[];
  /** Records naming an id no LEMF can have (the valid ids of such a record still get their copy). */
  invalid: R[];
}

/** The LEMF ids of an li.lemfs header, each once, in order; `invalid`: whether it named a malformed one. */
export function lemfsOf(header: string | undefined): { ids: string[]; invalid: boolean } {
  const ids: string[] = [];
  let invalid = false;
  for (const raw of (header ?? '').split(',')) {
    const id = raw.trim();
    if (id === '') continue;
    if (!LEMF_ID.test(id)) invalid = true;
    else if (!ids.includes(id)) ids.push(id);
  }
  return { ids, invalid };
}

/** One copy per (record, named LEMF), in record order; LEMFs `removed` says are gone get none. */
export function routeRecords<R extends RoutableRecord>(
  records: readonly R[],
  removed: (lemfId: string) => boolean,
): Routing<R> {
  const copies: RoutedCopy<R>[] = [];
  const invalid: R[] = [];
  for (const record of records) {
    const { ids, invalid: bad } = lemfsOf(record.headers['li.lemfs']);
    if (bad) invalid.push(record);
    for (const lemfId of ids) {
      if (removed(lemfId)) continue;
      copies.push({ record, lemfId, headers: { ...record.headers, 'li.lemfs': lemfId } });
    }
  }
  return { copies, invalid };
}

/**
 * A LEMF's state as the latest li.<t>.lemfs record says: `removed` after a tombstone (its queue is
 * deleted and nothing is routed to it), `known` otherwise (enabled or not: a disabled LEMF's queue
 * keeps its records for when it is enabled again, as its consumer group did before).
 */
export class LemfDirectory {
  readonly #removed = new Set<string>();

  set(lemfId: string, present: boolean): void {
    if (present) this.#removed.delete(lemfId);
    else this.#removed.add(lemfId);
  }

  removed(lemfId: string): boolean {
    return this.#removed.has(lemfId);
  }

  /** The LEMFs whose latest record is a tombstone. */
  allRemoved(): string[] {
    return [...this.#removed];
  }
}
