// What a new record of li.<t>.lemfs does to a running LEMF. Swapping only the transport keeps the
// LEMF's queue; a new transport kind, file batching, file selection or timestamp profile starts
// afresh (an open file must not take records of another format; queued records carry the old
// profile's times), and the unconfirmed records (never committed) are read again from the last
// commit point.
import { fileSelection, type LemfDestination } from '@li/schemas';
import { batchPolicyFor } from './batcher.ts';

export type LemfUpdate = 'remove' | 'unchanged' | 'replace-transport' | 'restart';

export function lemfUpdate(current: LemfDestination | undefined, next: LemfDestination): LemfUpdate {
  if (!next.enabled) return 'remove';
  if (!current) return 'restart';
  if (current.version === next.version) return 'unchanged';
  const sameShape =
    current.transport === next.transport &&
    // queued records already carry the old profile's times
    current.timestampProfile === next.timestampProfile &&
    JSON.stringify(batchPolicyFor(current)) === JSON.stringify(batchPolicyFor(next)) &&
    JSON.stringify(selectionOf(current)) === JSON.stringify(selectionOf(next));
  // addresses, credentials, timers: a new transport, the same queue
  return sameShape ? 'replace-transport' : 'restart';
}

const selectionOf = (dest: LemfDestination) => (dest.files ? fileSelection(dest.files) : null);
