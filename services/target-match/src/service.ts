// The target-match service: follows every tenant's compacted warrants topic into the warrant index,
// and the tenant registry li._system.tenants for each tenant's numbering plan (national numbers), then
// tags each event of li.<t>.events with every LIID it belongs to, producing one MatchedEvent
// per (event, LIID) to li.<t>.matched in the same transaction as the input offsets.
import {
  createProcessor,
  deploymentGroupId,
  type OutputRecord,
  type Rejection,
  SYSTEM_TOPICS,
  tailTopics,
  tenantOfTopic,
  topicName,
  writeEventIdHeader,
} from '@li/bus';
import { systemClock } from '@li/core';
import type { ServiceDefinition } from '@li/runtime';
import type { MatchedEvent, NormalizedEvent, Tenant, Warrant } from '@li/schemas';
import { createMatchMetrics } from './adapters/metrics.ts';
import { createTapWriter } from './adapters/taps.ts';
import { Config } from './config.ts';
import { type BatchEventIds, RecentEventIds } from './domain/recent-event-ids.ts';
import { BatchTaps } from './domain/taps.ts';
import { MATCH_EVENT_FIELDS, TargetMatch } from './domain/target-match.ts';

/**
 * An input record: the event (only MATCH_EVENT_FIELDS when framed is set), and the record as it
 * came when it was written with our own schema (copied into the MatchedEvents), else null.
 */
interface ReadEvent {
  event: NormalizedEvent;
  framed: Buffer | null;
}

export const targetMatchService: ServiceDefinition<typeof Config> = {
  name: 'target-match',
  config: Config,
  async start({ config, log, bus, metrics, readiness }) {
    const matcher = new TargetMatch({
      clock: systemClock,
      // Only for a tenant without a record on li._system.tenants.
      tenantOptions: () => ({
        defaultCountryCode: config.defaultCountryCode,
        ...(config.nationalTrunkPrefix ? { nationalTrunkPrefix: config.nationalTrunkPrefix } : {}),
      }),
    });
    const matchMetrics = createMatchMetrics(metrics);
    readiness('warrant-index', () => matcher.isReady() || 'reading the warrants topics and the tenant registry');

    for (const tenant of config.tenants) await bus.ensureTopics(tenant, ['warrants', 'events', 'matched', 'dlq']);
    await bus.ensureSystemTopics([SYSTEM_TOPICS.tenants]);
    const warrantCodecs = await bus.codecsFor<Warrant>(config.tenants, 'warrants', 'Warrant');
    const tenantCodec = await bus.codec<Tenant>(SYSTEM_TOPICS.tenants, 'Tenant');
    const served = new Set(config.tenants);
    const taps = await createTapWriter(bus, config.tenants, log, matcher.index);
    const tail = await tailTopics({
      kafka: bus,
      log,
      topics: [...warrantCodecs.keys(), SYSTEM_TOPICS.tenants],
      onRecord: async (r) => {
        if (r.topic === SYSTEM_TOPICS.tenants) {
          // The registry lists every tenant; keep the numbering plans of the served ones only.
          if (r.key === null || !served.has(r.key)) return;
          const outcome = matcher.applyTenantRecord(r.key, r.value === null ? null : await tenantCodec.decode(r.value));
          if ('applied' in outcome && !outcome.applied) {
            log.warn({ tenant: r.key, offset: r.offset, reason: outcome.reason }, 'tenant record not applied');
          }
          return;
        }
        const codec = warrantCodecs.get(r.topic)!;
        const value = r.value === null ? null : await codec.decode(r.value);
        const outcome = matcher.applyWarrantRecord(tenantOfTopic(r.topic), r.key ?? '', value);
        await taps.warrant(
          tenantOfTopic(r.topic),
          value?.liid ?? r.key?.split(':')[1],
          value,
          systemClock.now() * 1000,
        );
        if ('applied' in outcome && !outcome.applied) {
          log.warn(
            { tenant: tenantOfTopic(r.topic), offset: r.offset, reason: outcome.reason },
            'warrant record not applied',
          );
        }
      },
    });
    await tail.caughtUp;
    matcher.markCaughtUp();
    log.info({ count: matcher.index.stats().warrants }, 'warrant index loaded');

    const eventCodecs = await bus.codecsFor<NormalizedEvent>(config.tenants, 'events', 'NormalizedEvent');
    // An event written with our own schema is read without the fields matching never reads, and
    // copied into its MatchedEvents as it came (encodeWithFramed): not decoded, checked and
    // encoded again per match. Another writer's is read whole and encoded as before.
    const projectedCodecs = await bus.codecsFor<NormalizedEvent>(config.tenants, 'events', 'NormalizedEvent', {
      readFields: MATCH_EVENT_FIELDS,
    });
    const matchedCodecs = await bus.codecsFor<MatchedEvent>(config.tenants, 'matched', 'MatchedEvent');
    const groupId = deploymentGroupId('target-match', config.tenants);
    // Not restored at an assignment: a duplicate across a restart or a rebalance is not caught.
    const recentIds = new RecentEventIds(config.eventIdWindow);
    const batchIds = new WeakMap<object, BatchEventIds>();
    const partitionOf = (topic: string, partition: number) => `${topic}\u0000${partition}`;
    const duplicateLog = { pending: 0, lastAt: Number.NEGATIVE_INFINITY };
    const processor = createProcessor<ReadEvent>({
      kafka: bus,
      log,
      groupId,
      topics: [...eventCodecs.keys()],
      transactionalIdPrefix: groupId,
      metrics,
      async decode(bytes, topic) {
        const codec = eventCodecs.get(topic)!;
        if (bytes !== null && codec.isOwn(bytes)) {
          return { event: await projectedCodecs.get(topic)!.decode(bytes), framed: bytes };
        }
        return { event: await codec.decode(bytes), framed: null };
      },
      dlqTopic: (input) => topicName(tenantOfTopic(input), 'dlq'),
      async process(records, ctx) {
        const tenant = tenantOfTopic(ctx.topic);
        const matchedTopic = topicName(tenant, 'matched');
        const matchedCodec = matchedCodecs.get(matchedTopic)!;
        const eventCodec = eventCodecs.get(ctx.topic)!;
        const outputs: OutputRecord[] = [];
        const rejected: Rejection<ReadEvent>[] = [];
        const tapChanges = new BatchTaps();
        const ids = recentIds.batch(partitionOf(ctx.topic, ctx.partition));
        for (const r of records) {
          const { event, framed } = r.value;
          if (typeof event?.eventId === 'string' && ids.isRepeat(event.eventId)) continue;
          const outcome = matcher.handleEvent(tenant, event);
          if (!outcome.ok) {
            rejected.push({ record: r, code: outcome.code, reason: outcome.reason });
            continue;
          }
          for (const m of outcome.matched) {
            outputs.push({
              topic: matchedTopic,
              key: m.liid,
              value: framed
                ? await matchedCodec.encodeWithFramed(m, 'event', framed, eventCodec)
                : await matchedCodec.encode(m),
              headers: writeEventIdHeader(event.eventId),
            });
          }
          // Only warrants that select media make their calls' RTP worth publishing.
          tapChanges.add(taps.book.changes(tenant, event, outcome.media, systemClock.now() * 1000, tapChanges));
        }
        outputs.push(
          ...(await taps.outputs(
            tenant,
            ctx.partition,
            records.map((r) => r.value.event),
            tapChanges.all,
          )),
        );
        const result = { outputs, rejected };
        taps.hold(result, tapChanges.all);
        batchIds.set(result, ids);
        return result;
      },
      async onAssigned(assignment) {
        recentIds.keepOnly(Object.entries(assignment).flatMap(([t, ps]) => ps.map((p) => partitionOf(t, p))));
      },
      onCommitted(result, records, ctx) {
        taps.committed(result);
        const tenant = tenantOfTopic(ctx.topic);
        const ids = batchIds.get(result);
        if (ids) {
          recentIds.commit(ids);
          matchMetrics.duplicates(tenant, ids.repeats);
          duplicateLog.pending += ids.repeats;
          // Counts only, at most once a minute: the metric has the rest.
          const now = systemClock.now();
          if (duplicateLog.pending > 0 && now - duplicateLog.lastAt >= 60_000) {
            log.warn({ count: duplicateLog.pending }, 'events read twice dropped (since the last such line)');
            duplicateLog.pending = 0;
            duplicateLog.lastAt = now;
          }
        }
        // Taps and watermarks ride in the same outputs; only MatchedEvents count here.
        const matched = topicName(tenant, 'matched');
        matchMetrics.committed(
          tenant,
          records.length,
          result.rejected?.length ?? 0,
          result.outputs.filter((o) => o.topic === matched).length,
        );
      },
    });
    await processor.start();
    return {
      async stop() {
        await processor.stop();
        await tail.stop();
      },
    };
  },
};
