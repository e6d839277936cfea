// Tamper-evident audit: each record carries the SHA-256 of the previous one (per tenant), so a
// changed, deleted, inserted or reordered record breaks the chain at that point.
import { createHash } from 'node:crypto';
import type { AuditRecord } from './model.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level: one byte string per value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite number');
    return JSON.stringify(value) ?? 'null';
  }
  if (Buffer.isBuffer(value)) return JSON.stringify(value.toString('base64'));
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

function auditHash(r: Omit<AuditRecord, 'hash'>): string {
  const { hash: _ignored, ...rest } = r as AuditRecord;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/** An audit entry before chaining: the object itself before and after, not yet its canonical JSON. */
export interface AuditDraft
  extends Pick<AuditRecord, 'atMicros' | 'actor' | 'role' | 'action' | 'objectType' | 'objectId'> {
  before: unknown;
  after: unknown;
  reason?: string | null;
}

/** Chains drafts after head (null = empty chain), all of one tenant, in the given order. */
export function chainAudit(
  tenant: string,
  head: { seq: number; hash: string } | null,
  drafts: AuditDraft[],
): AuditRecord[] {
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  const out: AuditRecord[] = [];
  for (const d of drafts) {
    seq += 1;
    const base: Omit<AuditRecord, 'hash'> = {
      tenant,
      seq,
      atMicros: d.atMicros,
      actor: d.actor,
      role: d.role,
      action: d.action,
      objectType: d.objectType,
      objectId: d.objectId,
      before: d.before === null || d.before === undefined ? null : canonicalJson(d.before),
      after: d.after === null || d.after === undefined ? null : canonicalJson(d.after),
      reason: d.reason ?? null,
      prevHash,
    };
    const rec: AuditRecord = { ...base, hash: auditHash(base) };
    out.push(rec);
    prevHash = rec.hash;
  }
  return out;
}

export type ChainVerdict =
  | { ok: true; count: number; head: { seq: number; hash: string } | null }
  | {
      ok: false;
      count: number;
      /** Position in the list where the chain breaks, and the seq found there. */
      index: number;
      seq: number | null;
      reason: 'HASH_MISMATCH' | 'PREV_HASH_MISMATCH' | 'SEQ_OUT_OF_ORDER' | 'TENANT_MISMATCH' | 'HEAD_MISMATCH';
    };

/**
 * Verifies a tenant's chain from its first record. expectedHead (e.g. the head a previous
 * verification or an external anchor recorded) also catches truncation of the tail.
 */
export function verifyAuditChain(
  tenant: string,
  records: readonly AuditRecord[],
  expectedHead?: { seq: number; hash: string },
): ChainVerdict {
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const fail = (reason: Extract<ChainVerdict, { ok: false }>['reason']): ChainVerdict => ({
      ok: false,
      count: records.length,
      index: i,
      seq: typeof r.seq === 'number' ? r.seq : null,
      reason,
    });
    if (r.tenant !== tenant) return fail('TENANT_MISMATCH');
    if (r.seq !== i + 1) return fail('SEQ_OUT_OF_ORDER');
    if (r.prevHash !== prevHash) return fail('PREV_HASH_MISMATCH');
    let computed: string;
    try {
      computed = auditHash(r);
    } catch {
      return fail('HASH_MISMATCH');
    }
    if (computed !== r.hash) return fail('HASH_MISMATCH');
    prevHash = r.hash;
  }
  const last = records.at(-1);
  const head = last ? { seq: last.seq, hash: last.hash } : null;
  if (
    expectedHead &&
    (!head || head.seq < expectedHead.seq || records[expectedHead.seq - 1]?.hash !== expectedHead.hash)
  ) {
    return { ok: false, count: records.length, index: records.length, seq: head?.seq ?? null, reason: 'HEAD_MISMATCH' };
  }
  return { ok: true, count: records.length, head };
}
