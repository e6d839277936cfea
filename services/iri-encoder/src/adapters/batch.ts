// One batch of li.<t>.matched and li.<t>.warrants records -> the Kafka records of one
// transaction: ETSI records (li.<t>.hi2 for IRI and HI1 notifications, li.<t>.hi3 for CC), the
// e-mail/PIPE reports of seed 000 (li.<t>.reports), the changelog (li.<t>.encoder-state), and
// the rejections the processor sends to the DLQ.
import {
  type InputRecord,
  type OutputRecord,
  type ProcessResult,
  type Rejection,
  topicName,
  writeEtsiHeaders,
  writeReportHeaders,
} from '@li/bus';
import type { MatchedEvent, Warrant } from '@li/schemas';
import { apply } from '../domain/apply.ts';
import type { EncodedRecord } from '../domain/encode.ts';
import { applyWarrant, endCommunications } from '../domain/hi1.ts';
import type { EncoderOptions } from '../domain/options.ts';
import { composeReport, reportTypeOf } from '../domain/report.ts';
import { type EncoderState, type ExpiryPolicy, expire, type StateChange } from '../domain/state.ts';
import { checkMatchedTenant, checkWarrantTenant } from '../domain/tenant.ts';
import { warrantEndEvent, warrantEndOf } from '../domain/warrant-end.ts';
import { stateRecord } from './encoder-state.ts';
import type { LemfDirectory } from './lemfs.ts';

/** What the processor hands over: a matched event, a warrant version, or a warrant tombstone. */
export type Input = { kind: 'matched'; value: MatchedEvent } | { kind: 'warrant'; value: Warrant | null };

interface BatchDeps {
  options: EncoderOptions;
  lemfs: Pick<LemfDirectory, 'get'>;
  /** Sender and fallback recipient of e-mail reports. */
  reportFrom: string;
  expiry: ExpirySweep;
  /** Wall clock (µs): the mediation time of HI1 notifications and the IRIs ending with a warrant. */
  nowMicros: () => number;
}

/** Batch time between two expiry sweeps of a tenant: a sweep reads every entry. */
const SWEEP_INTERVAL_MICROS = 10_000_000;
/** Tombstones per transaction at most; a sweep that hits it goes on with the next batch. */
const MAX_TOMBSTONES = 10_000;

interface ExpirySweep {
  /** The tombstones of the batch, when a sweep of the tenant is due at the batch's time. */
  due(tenant: string, working: EncoderState, batchMicros: number, liids: Iterable<string>): StateChange[];
  /** The tenant's partitions were (re)assigned: forget which LIIDs are ours. */
  reassigned(tenant: string): void;
  /** This instance encoded the LIID since its assignment, so its state of the LIID is current. */
  owns(tenant: string, liid: string): boolean;
}

/**
 * Sweeps on the batch path, so tombstones share the batch's transaction. The batch's time is its
 * latest event time (a backlog replayed after downtime does not look idle), capped by the wall
 * clock (a network element's clock running ahead does not expire live communications). Only
 * LIIDs this instance encoded since its assignment are swept: li.<t>.matched is keyed by LIID,
 * so another instance, owning other partitions, never writes a tombstone over our counters.
 */
export function expirySweep(policy: ExpiryPolicy, wallMicros: () => number): ExpirySweep {
  const last = new Map<string, number>();
  const owned = new Map<string, Set<string>>();
  return {
    due(tenant, working, batchMicros, liids) {
      const ours = owned.get(tenant) ?? new Set<string>();
      owned.set(tenant, ours);
      for (const l of liids) ours.add(l);
      const now = Math.min(batchMicros, wallMicros());
      if (now - (last.get(tenant) ?? Number.NEGATIVE_INFINITY) < SWEEP_INTERVAL_MICROS) return [];
      const changes = expire(working, now, policy, { limit: MAX_TOMBSTONES, liids: ours });
      if (changes.length < MAX_TOMBSTONES) last.set(tenant, now);
      return changes;
    },
    reassigned(tenant) {
      owned.delete(tenant);
    },
    owns: (tenant, liid) => owned.get(tenant)?.has(liid) ?? false,
  };
}

/** Kafka headers of an ETSI record (cc-delivery routes on li.lemfs; li.kind HI1 marks notifications). */
function recordHeaders(rec: EncodedRecord): Record<string, string> {
  // One literal, no spread: per ETSI record (writeEtsiHeaders skips an undefined iriType).
  return writeEtsiHeaders({
    liid: rec.liid,
    cin: rec.cin,
    seq: rec.sequenceNumber,
    lemfs: rec.lemfIds,
    format: rec.format,
    kind: rec.kind,
    iriType: rec.iriType,
    eventId: rec.eventId,
  });
}

/**
 * A batch's records, and the warrant ends it hands to the owners of their LIIDs: the caller
 * encodes each (an Avro MatchedEvent) to li.<t>.matched, keyed by the LIID, in the same transaction.
 */
export type BatchResult = ProcessResult<Input> & { ends: MatchedEvent[] };

/** Encodes a batch against `working` (a per-batch copy of the tenant's state, updated as it goes). */
export function encodeBatch(
  tenant: string,
  working: EncoderState,
  batch: readonly InputRecord<Input>[],
  deps: BatchDeps,
): BatchResult {
  const outputs: OutputRecord[] = [];
  const ends: MatchedEvent[] = [];
  const rejected: Rejection<Input>[] = [];
  const changes = new Map<string, StateChange>();
  const hi2 = topicName(tenant, 'hi2');
  const hi3 = topicName(tenant, 'hi3');
  const record = (rec: EncodedRecord): OutputRecord => ({
    topic: rec.handover === 'HI2' ? hi2 : hi3,
    key: rec.liid,
    value: rec.bytes,
    headers: recordHeaders(rec),
  });
  const change = (c: StateChange) => {
    (working.entries as Record<string, unknown>)[c.key] = c.value ?? undefined;
    changes.set(c.key, c);
  };
  let batchMicros = Number.NEGATIVE_INFINITY;
  const liids = new Set<string>();
  for (const r of batch) {
    if (r.value.kind === 'warrant') {
      // A tombstone names no warrant version: admf never deletes warrants, so nothing to notify.
      const w = r.value.value;
      if (w === null) continue;
      const owner = checkWarrantTenant(tenant, w);
      if (!owner.ok) {
        rejected.push({ record: r, code: owner.code, reason: owner.reason });
        continue;
      }
      // Open communications are ended only by the instance that numbers the LIID's IRIs
      // (li.<t>.matched is keyed by LIID, li.<t>.warrants by country:LIID): another instance's
      // state of them is stale, and its END would reuse their sequence numbers. Unless this
      // instance is known to own them, the ends go to the owner through li.<t>.matched.
      const hi1 = applyWarrant(working, w, deps.options, {
        nowMicros: deps.nowMicros(),
        ownsCommunications: liids.has(w.liid) || deps.expiry.owns(tenant, w.liid),
      });
      if (!hi1.ok) {
        rejected.push({ record: r, code: hi1.code, reason: hi1.reason });
        continue;
      }
      for (const c of hi1.stateChanges) change(c);
      for (const rec of hi1.records) outputs.push(record(rec));
      if (hi1.ends) ends.push(warrantEndEvent(tenant, hi1.ends, deps.nowMicros()));
      continue;
    }
    const m = r.value.value;
    const owner = checkMatchedTenant(tenant, m);
    if (!owner.ok) {
      rejected.push({ record: r, code: owner.code, reason: owner.reason });
      continue;
    }
    liids.add(m.liid);
    const end = warrantEndOf(m);
    if (end) {
      // A warrant's end handed over by the instance that read it: this one owns the LIID.
      const ended = endCommunications(working, end, deps.options, deps.nowMicros());
      if (!ended.ok) {
        rejected.push({ record: r, code: ended.code, reason: ended.reason });
        continue;
      }
      for (const c of ended.stateChanges) change(c);
      for (const rec of ended.records) outputs.push(record(rec));
      continue;
    }
    batchMicros = Math.max(batchMicros, m.event.occurredAtMicros);
    const result = apply(working, m, deps.options);
    if (!result.ok) {
      rejected.push({ record: r, code: result.code, reason: result.reason });
      continue;
    }
    for (const c of result.stateChanges) change(c);
    for (const rec of result.records) outputs.push(record(rec));
    if (result.skipped.length > 0) {
      rejected.push({
        record: r,
        code: 'ENC_ERR_PARTLY_ENCODED',
        reason: result.skipped.map((s) => `${s.what}: ${s.reason}`).join('; '),
      });
    }
    outputs.push(...reports(tenant, m, deps));
  }
  if (liids.size > 0) for (const c of deps.expiry.due(tenant, working, batchMicros, liids)) change(c);
  for (const c of changes.values()) outputs.push(stateRecord(tenant, c));
  return { outputs, rejected, ends };
}

/** Seed 000 reports of an event for the warrant's e-mail and PIPE LEMFs. */
function reports(tenant: string, m: MatchedEvent, deps: BatchDeps): OutputRecord[] {
  if (!reportTypeOf(m.event)) return [];
  const out: OutputRecord[] = [];
  for (const lemfId of m.lemfIds) {
    const lemf = deps.lemfs.get(tenant, lemfId);
    if (!lemf || (lemf.transport !== 'EMAIL' && lemf.transport !== 'PIPE')) continue;
    const report = composeReport(m, {
      from: lemf.email?.from ?? deps.reportFrom,
      to: lemf.email?.to ?? [deps.reportFrom],
      courtCaseId: m.courtCaseId || null,
    });
    if (!report.ok) continue;
    out.push({
      topic: topicName(tenant, 'reports'),
      key: m.liid,
      value: report.bytes,
      headers: writeReportHeaders({ liid: m.liid, lemfs: [lemfId], reportType: report.type, eventId: m.event.eventId }),
    });
  }
  return out;
}
