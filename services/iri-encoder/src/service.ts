// The iri-encoder service: consumes li.<t>.matched and li.<t>.warrants and produces, in one Kafka
// transaction per batch, the ETSI records (li.<t>.hi2 for IRI and for the HI1 notifications of
// warrant changes, li.<t>.hi3 for CC), the e-mail/PIPE reports of
// seed 000 (li.<t>.reports), the CIN and sequence counters (li.<t>.encoder-state, compacted)
// and the input offsets. Counters are reloaded from the changelog whenever partitions are
// assigned, after the previous owner was fenced, so sequence numbers never repeat or skip.
import {
  createProcessor,
  deploymentGroupId,
  type OutputRecord,
  type Rejection,
  readTopic,
  tailTopics,
  topicName,
} from '@li/bus';
import { CommonConfig, type ServiceDefinition } from '@li/runtime';
import type { LemfDestination, MatchedEvent, Warrant } from '@li/schemas';
import { Counter } from 'prom-client';
import Type from 'typebox';
import { apply } from './domain/apply.ts';
import type { EncodedRecord } from './domain/encode.ts';
import { applyWarrant } from './domain/hi1.ts';
import type { EncoderOptions } from './domain/options.ts';
import { composeReport, reportTypeOf } from './domain/report.ts';
import { commit, type EncoderState, emptyState, restore, type StateChange } from './domain/state.ts';
import { checkMatchedTenant, checkWarrantTenant } from './domain/tenant.ts';

export const Config = Type.Object({
  ...CommonConfig.properties,
  metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9462 }),
  tenants: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'tenant ids this deployment serves' }),
  operatorIdentifier: Type.String({ minLength: 1, maxLength: 5, description: 'networkIdentifier.operatorIdentifier' }),
  networkElementIdentifier: Type.String({ minLength: 1, maxLength: 16, default: 'mdf1' }),
  deliveryCountryCode: Type.String({ pattern: '^[A-Z]{2}$', default: 'IT' }),
  timestampFormat: Type.Union([Type.Literal('GENERALIZED_TIME'), Type.Literal('MICROSECOND'), Type.Literal('BOTH')], {
    default: 'BOTH',
  }),
  ts101671Countries: Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), { default: ['IT'] }),
  maxSegment: Type.Integer({ minimum: 256, default: 64_000 }),
  reportFrom: Type.String({
    minLength: 3,
    default: 'li-reports@mediation.invalid',
    description: 'sender of e-mail reports',
  }),
});

function tenantOf(topic: string): string {
  return topic.split('.')[1] ?? '';
}

function stateRecord(topic: string, c: StateChange): OutputRecord {
  return { topic, key: c.key, value: c.value === null ? null : Buffer.from(JSON.stringify(c.value)) };
}

/** Kafka headers of an ETSI record (cc-delivery routes on li.lemfs; li.kind HI1 marks notifications). */
function recordHeaders(rec: EncodedRecord): Record<string, string> {
  return {
    'li.liid': rec.liid,
    'li.cin': String(rec.cin),
    'li.seq': String(rec.sequenceNumber),
    'li.lemfs': rec.lemfIds.join(','),
    'li.format': rec.format,
    'li.kind': rec.kind,
    ...(rec.iriType ? { 'li.iri-type': rec.iriType } : {}),
    'li.event-id': rec.eventId,
  };
}

/** What the processor hands to process(): a matched event, a warrant version, or a warrant tombstone. */
type Input = { kind: 'matched'; value: MatchedEvent } | { kind: 'warrant'; value: Warrant | null };

/** A working copy that sees the committed state and this batch's writes, without copying the state. */
function overlay(base: EncoderState): EncoderState {
  return { entries: Object.create(base.entries) as EncoderState['entries'] };
}

export const iriEncoderService: ServiceDefinition<typeof Config> = {
  name: 'iri-encoder',
  config: Config,
  async start({ config, log, bus, metrics }) {
    const options: EncoderOptions = {
      operatorIdentifier: config.operatorIdentifier,
      networkElementIdentifier: config.networkElementIdentifier,
      deliveryCountryCode: config.deliveryCountryCode,
      timestampFormat: config.timestampFormat,
      ts101671Countries: config.ts101671Countries,
      maxSegment: config.maxSegment,
    };
    const records = new Counter({
      name: 'li_iri_encoder_records_total',
      help: 'ETSI records written, by handover (HI2, HI3), format and kind.',
      labelNames: ['tenant', 'handover', 'format', 'kind'],
      registers: [metrics],
    });
    const reportsOut = new Counter({
      name: 'li_iri_encoder_reports_total',
      help: 'E-mail/PIPE reports written (seed 000 formats).',
      labelNames: ['tenant'],
      registers: [metrics],
    });
    for (const t of config.tenants) {
      await bus.ensureTopics(t, ['matched', 'warrants', 'hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq']);
    }

    // LEMF destinations: reports go to the warrant's e-mail and PIPE LEMFs.
    const lemfs = new Map<string, LemfDestination>();
    const lemfCodecs = await bus.codecsFor<LemfDestination>(config.tenants, 'lemfs', 'LemfDestination');
    const lemfTail = await tailTopics({
      kafka: bus.kafka,
      log,
      topics: [...lemfCodecs.keys()],
      onRecord: async (r) => {
        const key = `${tenantOf(r.topic)}/${r.key}`;
        if (r.value === null) lemfs.delete(key);
        else lemfs.set(key, await lemfCodecs.get(r.topic)!.decode(r.value));
      },
    });
    await lemfTail.caughtUp;

    const states = new Map<string, EncoderState>(config.tenants.map((t) => [t, emptyState()]));
    async function reloadState(tenant: string): Promise<void> {
      const changes: StateChange[] = [];
      for (const r of await readTopic(bus.kafka, topicName(tenant, 'encoder-state'))) {
        if (r.key) changes.push({ key: r.key, value: r.value ? JSON.parse(r.value.toString('utf8')) : null });
      }
      states.set(tenant, restore(changes));
      log.info({ tenant, records: changes.length }, 'encoder state reloaded');
    }

    const matchedCodecs = await bus.codecsFor<MatchedEvent>(config.tenants, 'matched', 'MatchedEvent');
    // Warrant versions (admf's compacted li.<t>.warrants) give the HI1 notifications. The group
    // reads them from the beginning the first time, so every warrant's last version is known.
    const warrantCodecs = await bus.codecsFor<Warrant>(config.tenants, 'warrants', 'Warrant');
    const groupId = deploymentGroupId('iri-encoder', config.tenants);
    const processor = createProcessor<Input>({
      kafka: bus.kafka,
      log,
      groupId,
      topics: [...matchedCodecs.keys(), ...warrantCodecs.keys()],
      transactionalIdPrefix: groupId,
      metrics,
      async decode(bytes, topic) {
        const warrants = warrantCodecs.get(topic);
        if (warrants) return { kind: 'warrant', value: bytes === null ? null : await warrants.decode(bytes) };
        return { kind: 'matched', value: await matchedCodecs.get(topic)!.decode(bytes) };
      },
      dlqTopic: (input) => topicName(tenantOf(input), 'dlq'),
      async onAssigned(assignment) {
        for (const tenant of new Set(Object.keys(assignment).map(tenantOf))) await reloadState(tenant);
      },
      async process(batch, ctx) {
        const tenant = tenantOf(ctx.topic);
        const working = overlay(states.get(tenant) ?? emptyState());
        const stateTopic = topicName(tenant, 'encoder-state');
        const outputs: OutputRecord[] = [];
        const rejected: Rejection<Input>[] = [];
        const changes = new Map<string, StateChange>();
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
            const hi1 = applyWarrant(working, w, options);
            if (!hi1.ok) {
              rejected.push({ record: r, code: hi1.code, reason: hi1.reason });
              continue;
            }
            for (const c of hi1.stateChanges) {
              (working.entries as Record<string, unknown>)[c.key] = c.value ?? undefined;
              changes.set(c.key, c);
            }
            for (const rec of hi1.records) {
              outputs.push({
                topic: topicName(tenant, 'hi2'),
                key: rec.liid,
                value: rec.bytes,
                headers: recordHeaders(rec),
              });
            }
            continue;
          }
          const m = r.value.value;
          const owner = checkMatchedTenant(tenant, m);
          if (!owner.ok) {
            rejected.push({ record: r, code: owner.code, reason: owner.reason });
            continue;
          }
          const result = apply(working, m, options);
          if (!result.ok) {
            rejected.push({ record: r, code: result.code, reason: result.reason });
            continue;
          }
          for (const c of result.stateChanges) {
            (working.entries as Record<string, unknown>)[c.key] = c.value ?? undefined;
            changes.set(c.key, c);
          }
          for (const rec of result.records) {
            outputs.push({
              topic: topicName(tenant, rec.handover === 'HI2' ? 'hi2' : 'hi3'),
              key: rec.liid,
              value: rec.bytes,
              headers: recordHeaders(rec),
            });
          }
          if (result.skipped.length > 0) {
            rejected.push({
              record: r,
              code: 'ENC_ERR_PARTLY_ENCODED',
              reason: result.skipped.map((s) => `${s.what}: ${s.reason}`).join('; '),
            });
          }
          // Seed 000 reports for the warrant's e-mail and PIPE LEMFs.
          if (reportTypeOf(m.event.category)) {
            for (const lemfId of m.lemfIds) {
              const lemf = lemfs.get(`${tenant}/${lemfId}`);
              if (!lemf || (lemf.transport !== 'EMAIL' && lemf.transport !== 'PIPE')) continue;
              const report = composeReport(m, {
                from: lemf.email?.from ?? config.reportFrom,
                to: lemf.email?.to ?? [config.reportFrom],
                courtCaseId: m.courtCaseId || null,
              });
              if (report.ok) {
                outputs.push({
                  topic: topicName(tenant, 'reports'),
                  key: m.liid,
                  value: report.bytes,
                  headers: {
                    'li.liid': m.liid,
                    'li.lemfs': lemfId,
                    'li.report-type': report.type,
                    'li.event-id': m.event.eventId,
                  },
                });
              }
            }
          }
        }
        for (const c of changes.values()) outputs.push(stateRecord(stateTopic, c));
        return { outputs, rejected };
      },
      onCommitted(result, _records, ctx) {
        const tenant = tenantOf(ctx.topic);
        const state = states.get(tenant)!;
        const stateTopic = topicName(tenant, 'encoder-state');
        const committed: StateChange[] = [];
        for (const o of result.outputs) {
          if (o.topic === stateTopic && o.key) {
            committed.push({ key: o.key, value: o.value ? JSON.parse(o.value.toString('utf8')) : null });
          } else if (o.topic.endsWith('.reports')) {
            reportsOut.inc({ tenant });
          } else {
            records.inc({
              tenant,
              handover: o.topic.endsWith('.hi2') ? 'HI2' : 'HI3',
              format: o.headers?.['li.format'] ?? '',
              kind: o.headers?.['li.kind'] ?? '',
            });
          }
        }
        commit(state, committed);
      },
    });
    await processor.start();
    return {
      async stop() {
        await processor.stop();
        await lemfTail.stop();
      },
    };
  },
};
