// When the publisher writes to the disk spool instead of Kafka, and what a full spool refuses.
// Order rule: while the spool holds anything, new records go behind it, so Kafka receives
// records in the order they were decoded whether or not they passed through the disk.

export interface RouteState {
  /** Kafka did not acknowledge a send within the outage delay, or a send failed. */
  brokerDown: boolean;
  /** Records in the spool not yet acknowledged by Kafka. */
  spooledRecords: number;
}

/** Where a newly decoded record goes: memory (sent directly) or behind the spool's contents. */
export function routeOf(s: RouteState): 'memory' | 'spool' {
  return s.brokerDown || s.spooledRecords > 0 ? 'spool' : 'memory';
}

/** What the pump sends next: the memory queue holds only records older than any in the spool. */
export function nextSource(memoryQueued: number, spooledRecords: number): 'memory' | 'spool' | 'idle' {
  if (memoryQueued > 0) return 'memory';
  return spooledRecords > 0 ? 'spool' : 'idle';
}

/** Whether a record of `size` octets fits: a full spool drops it (counted, never silently). */
export function spoolAdmits(usedBytes: number, size: number, maxBytes: number): boolean {
  return usedBytes + size <= maxBytes;
}

/**
 * Whether senders that can retry (mail-event HTTP, X2/X3 POIs) should be held off: the spool is
 * in use and has less room left than one more burst (a tenth of it, at most 1 MiB).
 */
export function spoolNearlyFull(usedBytes: number, maxBytes: number): boolean {
  return usedBytes + Math.min(maxBytes / 10, 1024 * 1024) >= maxBytes;
}

/**
 * When the disk spool's records reach stable storage. 'always': before append() returns (one
 * fdatasync per publisher batch), so an acknowledged record survives a power cut; 'interval':
 * every intervalMs (a power cut loses at most that much); 'never': the kernel's writeback decides.
 */
export type SpoolFsync = { mode: 'always' } | { mode: 'interval'; intervalMs: number } | { mode: 'never' };

/** Whether append() syncs before it returns. */
export function syncAfterAppend(p: SpoolFsync): boolean {
  return p.mode === 'always';
}
