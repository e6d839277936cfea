// The router's rule: which LEMFs get a copy of a record of li.<t>.hi2/hi3/reports. Its li.lemfs
// header (set by the encoder from the warrant) names them; each named LEMF gets one copy, in its
// own queue, unless the LEMF was removed. The copy's li.lemfs names only that LEMF, so a LEMF's
// queue never tells which other LEMFs got the same record.

import { HEADERS, isLemfId, readDeliveryHeaders } from '@li/records';

export interface RoutableRecord {
  headers: Record<string, string>;
}

interface RoutedCopy<R> {
  record: R;
  lemfId: string;
  headers: Record<string, string>;
}

/** A record to dead-letter, with the code and reason its DLQ record carries. */
interface RoutingRejection<R> {
  record: R;
  code: 'BUS_ERR_HEADER' | 'DLV_ERR_BAD_RECORD';
  reason: string;
}

export interface Routing<R> {
  copies: RoutedCopy<R>[];
  /**
   * Records with a missing or malformed li.* header (none of them is routed), and records naming
   * an id no LEMF can have (the valid ids of such a record still get their copy).
   */
  rejected: RoutingRejection<R>[];
}

/**
 * One copy per (record, named LEMF), in record order; LEMFs `removed` says are gone get none. The
 * headers cc-delivery delivers by are checked here, once per record, so a LEMF's queue holds
 * only records its consumer can read.
 */
export function routeRecords<R extends RoutableRecord>(
  records: readonly R[],
  removed: (lemfId: string) => boolean,
): Routing<R> {
  const copies: RoutedCopy<R>[] = [];
  const rejected: RoutingRejection<R>[] = [];
  for (const record of records) {
    const read = readDeliveryHeaders(record.headers);
    if (!read.ok) {
      rejected.push({ record, code: read.code, reason: read.reason });
      continue;
    }
    const ids = new Set(read.value.lemfs);
    if ([...ids].some((id) => !isLemfId(id)))
      rejected.push({ record, code: 'DLV_ERR_BAD_RECORD', reason: `${HEADERS.lemfs} names an invalid LEMF id` });
    for (const lemfId of ids) {
      if (!isLemfId(lemfId) || removed(lemfId)) continue;
      copies.push({ record, lemfId, headers: { ...record.headers, [HEADERS.lemfs]: lemfId } });
    }
  }
  return { copies, rejected };
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
