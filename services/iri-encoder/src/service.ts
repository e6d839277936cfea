// The iri-encoder service: consumes li.<t>.matched and produces, in one Kafka transaction per
// batch, the ETSI records (li.<t>.hi2 for IRI, li.<t>.hi3 for CC), the e-mail/PIPE reports of
// seed 000 (li.<t>.reports), the CIN and sequence counters (li.<t>.encoder-state, compacted)
// and the input offsets. Counters are reloaded from the changelog whenever partitions are
// assigned, after the previous owner was fenced, so sequence numbers never repeat or skip.
import { createProcessor, type OutputRecord, type Rejection, readTopic, tailTopics, topicName } from '@li/bus';
import { CommonConfig, type ServiceDefinition } from '@li/runtime';
import type { LemfDestination, MatchedEvent } from '@li/schemas';
import { Counter } from 'prom-client';
import Type from 'typebox';
import {
  apply,
  commit,
  type EncoderOptions,
  type EncoderState,
  emptyState,
  restore,
  type StateChange,
} from './domain/index.ts';
import { composeReport, reportTypeOf } from './reports/index.ts';

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
      await bus.ensureTopics(t, ['matched', 'hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq']);
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
    const groupId = 'li.iri-encoder';
    const processor = createProcessor<MatchedEvent>({
      kafka: bus.kafka,
      log,
      groupId,
      topics: [...matchedCodecs.keys()],
      transactionalIdPrefix: groupId,
      decode: (bytes, topic) => matchedCodecs.get(topic)!.decode(bytes),
      dlqTopic: (input) => topicName(tenantOf(input), 'dlq'),
      async onAssigned(assignment) {
        for (const topic of Object.keys(assignment)) await reloadState(tenantOf(topic));
      },
      async process(batch, ctx) {
        const tenant = tenantOf(ctx.topic);
        const working = overlay(states.get(tenant) ?? emptyState());
        const stateTopic = topicName(tenant, 'encoder-state');
        const outputs: OutputRecord[] = [];
        const rejected: Rejection<MatchedEvent>[] = [];
        const changes = new Map<string, StateChange>();
        for (const r of batch) {
          const m = r.value;
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
              headers: {
                'li.liid': rec.liid,
                'li.cin': String(rec.cin),
                'li.seq': String(rec.sequenceNumber),
                'li.lemfs': rec.lemfIds.join(','),
                'li.format': rec.format,
                'li.kind': rec.kind,
                ...(rec.iriType ? { 'li.iri-type': rec.iriType } : {}),
                'li.event-id': rec.eventId,
              },
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
