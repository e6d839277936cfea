// The cc-delivery service on Kafka. LEMF destinations come from the compacted li.<t>.lemfs
// topics and apply live. Each LEMF has its own consumer group over its tenant's li.<t>.hi2,
// li.<t>.hi3 and li.<t>.reports, so one LEMF's outage never slows another; it takes only the
// records whose li.lemfs header names it, and commits an offset only once the transport
// confirmed everything before it. Records a transport can never take go to li.<t>.dlq.
// File numbers (FTP/SFTP names) are saved per LEMF and LIID in the compacted li.<t>.delivery-state
// before a file is uploaded under its name, and restored at start, so a name is never reused.
// Each group's lag is li_cc_delivery_consumer_lag_records{tenant,lemf,stream}.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type OutputRecord, readTopic, tailTopics, tenantOfTopic, topicName } from '@li/bus';
import { systemClock } from '@li/core';
import type { ServiceDefinition } from '@li/runtime';
import { isSecretRef, type LemfDestination } from '@li/schemas';
import type { Consumer } from 'kafkajs';
import { ConsumerLagMonitor } from './adapters/consumer-lag.ts';
import { createLemfDeliveries } from './adapters/lemf-deliveries.ts';
import { Config } from './config.ts';
import { carries } from './domain/formats.ts';
import { DEFAULT_INBOUND_LIMITS } from './domain/inbound-budget.ts';
import { createTriCodec } from './domain/tri-codec.ts';
import type { DeliveryRecord, Stream } from './domain/types.ts';

const STREAM_OF: Record<string, Stream> = { hi2: 'HI2', hi3: 'HI3', reports: 'REPORT' };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The topics a LEMF's consumer reads. */
const streamsOf = (tenant: string) => (['hi2', 'hi3', 'reports'] as const).map((s) => topicName(tenant, s));

/** Each LEMF has its own consumer group, so one LEMF's outage never holds another. */
export const lemfGroupId = (tenant: string, lemfId: string) => `li.cc-delivery.${tenant}.${lemfId}`;

/** li.<t>.delivery-state: the next file number of one LEMF and LIID (key: JSON [lemf, liid]). */
interface FileSeqState {
  lemf: string;
  liid: string;
  next: number;
}

export const ccDeliveryService: ServiceDefinition<typeof Config> = {
  name: 'cc-delivery',
  config: Config,
  async start({ config, log, bus, metrics, readiness }) {
    for (const t of config.tenants)
      await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq', 'delivery-state']);
    const consumers = new Map<string, Consumer>();
    // Per LEMF and partition, the offset after the last record read: records of other LEMFs
    // need no confirmation, so a LEMF with nothing unconfirmed may commit up to here.
    const readUpTo = new Map<string, bigint>();
    // Offset commits in flight, awaited on stop so a confirmed record is not read again after a restart.
    const commits = new Set<Promise<void>>();
    const commit = (k: string, consumer: Consumer, offsets: { topic: string; partition: number; offset: string }[]) => {
      const p = consumer
        .commitOffsets(offsets)
        .catch((err: unknown) => log.warn({ lemf: k, err }, 'offset commit failed; records will be re-read'))
        .finally(() => commits.delete(p));
      commits.add(p);
    };
    const key = (tenant: string, lemfId: string) => `${tenant}/${lemfId}`;
    const splitKey = (k: string) => {
      const i = k.indexOf('/');
      return { tenant: k.slice(0, i), lemf: k.slice(i + 1) };
    };

    // File numbers: next number per LEMF (keyed <tenant>/<id>) and LIID, restored before any LEMF starts.
    const fileSeqs = new Map<string, Record<string, number>>();
    for (const t of config.tenants) {
      let n = 0;
      for (const r of await readTopic(bus.kafka, topicName(t, 'delivery-state'))) {
        if (!r.value) continue;
        try {
          const s = JSON.parse(r.value.toString('utf8')) as FileSeqState;
          if (typeof s.lemf !== 'string' || typeof s.liid !== 'string' || !Number.isSafeInteger(s.next)) continue;
          const m = fileSeqs.get(key(t, s.lemf)) ?? {};
          m[s.liid] = Math.max(m[s.liid] ?? 1, s.next);
          fileSeqs.set(key(t, s.lemf), m);
          n++;
        } catch {
          log.warn({ tenant: t, code: 'DLV_ERR_STATE' }, 'unreadable delivery-state record skipped');
        }
      }
      log.info({ tenant: t, records: n }, 'file numbers restored');
    }
    // Saves are coalesced: one send carries the latest number of every key changed meanwhile.
    const dirty = new Map<string, OutputRecord>();
    let sending: Promise<void> = Promise.resolve();
    let queued: Promise<void> | null = null;
    const saveSeq = (lemfKey: string, liid: string): Promise<void> => {
      const { tenant, lemf } = splitKey(lemfKey);
      const next = fileSeqs.get(lemfKey)?.[liid] ?? 1;
      const state: FileSeqState = { lemf, liid, next };
      const topic = topicName(tenant, 'delivery-state');
      const k = JSON.stringify([lemf, liid]);
      dirty.set(`${topic}\0${k}`, { topic, key: k, value: Buffer.from(JSON.stringify(state)) });
      if (!queued) {
        queued = sending
          .catch(() => undefined)
          .then(() => {
            queued = null;
            const records = [...dirty.values()];
            dirty.clear();
            sending = bus.send(records);
            return sending;
          });
      }
      return queued;
    };

    const deliveries = createLemfDeliveries({
      maxBatchRecords: config.maxBatchRecords,
      log,
      clock: systemClock,
      registry: metrics,
      codec: createTriCodec({
        operatorIdentifier: config.operatorIdentifier,
        networkElementIdentifier: config.networkElementIdentifier,
        timestampFormat: config.timestampFormat,
        clock: systemClock,
      }),
      secrets: (tenant, ref) => {
        // Only in the LEMF's own tenant's directory, by a plain name: never a path out of it.
        if (!config.tenants.includes(tenant) || !isSecretRef(ref)) return null;
        try {
          return readFileSync(join(config.secretsDir, tenant, ref));
        } catch {
          return null;
        }
      },
      pipeCommands: config.pipeCommands,
      inbound: {
        ...DEFAULT_INBOUND_LIMITS,
        maxPduBytes: config.lemfReadMaxPduBytes,
        burstBytes: config.lemfReadBurstBytes,
        bytesPerSecond: config.lemfReadBytesPerSecond,
      },
      commit: (lemfKey, points) => {
        const consumer = consumers.get(lemfKey);
        if (!consumer) return;
        const drained = (deliveries.delivery(lemfKey)?.pending() ?? 1) === 0;
        const offsets = points.map((p) => {
          const seen = readUpTo.get(`${lemfKey}|${p.topic}|${p.partition}`) ?? 0n;
          const offset = drained && seen > BigInt(p.offset) ? seen : BigInt(p.offset);
          return { topic: p.topic, partition: p.partition, offset: String(offset) };
        });
        commit(lemfKey, consumer, offsets);
      },
      fileSeqStart: (lemfKey) => ({ ...fileSeqs.get(lemfKey) }),
      fileSeqUsed: (lemfKey, liid, seq) => {
        const m = fileSeqs.get(lemfKey) ?? {};
        m[liid] = Math.max(m[liid] ?? 1, seq + 1);
        fileSeqs.set(lemfKey, m);
        return saveSeq(lemfKey, liid);
      },
      deadLetter: (record, error) => {
        void bus
          .send([
            {
              topic: topicName(tenantOfTopic(record.source.topic), 'dlq'),
              key: record.liid,
              value: Buffer.from(record.bytes),
              headers: {
                'li.dlq.code': error.code,
                'li.dlq.reason': error.message,
                'li.dlq.topic': record.source.topic,
                'li.dlq.partition': String(record.source.partition),
                'li.dlq.offset': String(record.source.offset),
                'li.lemf': record.lemfId,
              },
            },
          ])
          .catch((err: unknown) => log.error({ err }, 'dead letter could not be written'));
      },
    });

    async function startConsumer(dest: LemfDestination): Promise<void> {
      const k = key(dest.tenant, dest.id);
      if (consumers.has(k)) return;
      const consumer = bus.kafka.consumer({
        groupId: lemfGroupId(dest.tenant, dest.id),
        readUncommitted: false,
        allowAutoTopicCreation: false,
        sessionTimeout: 10_000,
        // Records still arrive as soon as they exist; the short long-poll only keeps a stop quick.
        maxWaitTimeInMs: 1000,
      });
      consumers.set(k, consumer);
      // kafkajs never hands eachBatch a batch it filtered to nothing (an aborted transaction, a lone
      // commit marker) and, without autoCommit, never commits past it: do so here, or the group
      // would sit behind the end for good and its lag would never read 0.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize !== 0) return;
        const end = BigInt(payload.lastOffset) + 1n;
        const at = `${k}|${payload.topic}|${payload.partition}`;
        if (end <= (readUpTo.get(at) ?? 0n)) return;
        readUpTo.set(at, end);
        if (deliveries.delivery(k)?.pending() !== 0) return; // the next confirmation commits up to `end`
        commit(k, consumer, [{ topic: payload.topic, partition: payload.partition, offset: String(end) }]);
      });
      await consumer.connect();
      await consumer.subscribe({
        topics: streamsOf(dest.tenant),
        fromBeginning: true,
      });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat, isRunning }) => {
          const stream = STREAM_OF[batch.topic.split('.')[2] ?? ''];
          if (!stream) return;
          const records: DeliveryRecord[] = [];
          for (const m of batch.messages) {
            const lemfs = (m.headers?.['li.lemfs']?.toString() ?? '').split(',');
            if (!lemfs.includes(dest.id)) continue; // another LEMF's record
            if (!carries(dest.transport, stream, m.headers?.['li.format']?.toString())) continue;
            records.push({
              lemfId: k,
              liid: m.headers?.['li.liid']?.toString() ?? m.key?.toString() ?? '',
              cin: Number(m.headers?.['li.cin']?.toString() ?? 0),
              seq: Number(m.headers?.['li.seq']?.toString() ?? 0),
              stream,
              bytes: m.value ?? Buffer.alloc(0),
              source: { topic: batch.topic, partition: batch.partition, offset: Number(m.offset) },
            });
          }
          const delivery = deliveries.delivery(k);
          if (records.length > 0) deliveries.offer(k, records);
          else if (delivery && delivery.pending() === 0) {
            // Nothing of ours in this batch and nothing unconfirmed before it: move past it.
            await consumer.commitOffsets([
              { topic: batch.topic, partition: batch.partition, offset: String(BigInt(batch.lastOffset()) + 1n) },
            ]);
          }
          // After the offer: a commit may pass this batch only once its records are tracked.
          readUpTo.set(`${k}|${batch.topic}|${batch.partition}`, BigInt(batch.lastOffset()) + 1n);
          // Back-pressure: this LEMF's group waits while its queue is full; other LEMFs go on.
          while (isRunning() && (deliveries.delivery(k)?.pending() ?? 0) > config.highWaterRecords) {
            await sleep(100);
            await heartbeat();
          }
        },
      });
    }

    async function stopConsumer(k: string): Promise<void> {
      const c = consumers.get(k);
      consumers.delete(k);
      await c?.disconnect();
    }

    // Destinations: applied in order, one at a time, as they arrive.
    const codecs = await bus.codecsFor<LemfDestination>(config.tenants, 'lemfs', 'LemfDestination');
    let chain = Promise.resolve();
    const tail = await tailTopics({
      kafka: bus.kafka,
      log,
      topics: [...codecs.keys()],
      onRecord: (r) => {
        chain = chain.then(async () => {
          const tenant = tenantOfTopic(r.topic);
          const lemfId = r.key ?? '';
          const k = key(tenant, lemfId);
          const dest = r.value === null ? null : await codecs.get(r.topic)!.decode(r.value);
          // A destination naming another tenant is never trusted: tenants never see each other's records.
          if (dest && dest.tenant !== tenant) {
            log.error({ tenant, lemf: lemfId }, 'LEMF record names another tenant; ignored');
            return;
          }
          if (!dest?.enabled) {
            await stopConsumer(k);
            await deliveries.removeLemf(k);
            return;
          }
          await deliveries.applyLemf({ ...dest, id: k });
          await startConsumer(dest);
        });
        return chain;
      },
    });
    await tail.caughtUp;
    readiness('lemfs', () => true);

    const lag = new ConsumerLagMonitor({
      admin: () => bus.admin(),
      registry: metrics,
      intervalMs: config.lagIntervalMs,
      targets: () =>
        [...consumers.keys()].map((k) => {
          const { tenant, lemf } = splitKey(k);
          return { tenant, lemf, groupId: lemfGroupId(tenant, lemf) };
        }),
      topicOf: (tenant, stream) => topicName(tenant, stream),
      log,
    });
    lag.start();
    return {
      async stop() {
        await lag.stop();
        await tail.stop();
        // Stop reading, close open files, and give what is unconfirmed a bounded time to be
        // delivered and committed; the rest is re-read after the restart.
        for (const [k, c] of consumers) c.pause(streamsOf(splitKey(k).tenant).map((topic) => ({ topic })));
        const unconfirmed = await deliveries.drain(config.shutdownDrainMs);
        // A commit that hangs must not hold the stop.
        await Promise.race([Promise.all(commits), new Promise((r) => setTimeout(r, 5_000).unref())]);
        if (unconfirmed > 0)
          log.warn({ records: unconfirmed }, 'stopping with unconfirmed records; they will be re-read');
        await Promise.all([...consumers.keys()].map(stopConsumer));
        await deliveries.stop();
      },
    };
  },
};
