// The iri-encoder service: consumes li.<t>.matched and li.<t>.warrants and produces, in one Kafka
// transaction per batch, the records of adapters/batch.ts and the input offsets.
import { createProcessor, deploymentGroupId, tenantOfTopic, topicName } from '@li/bus';
import { systemClock } from '@li/core';
import type { ServiceDefinition } from '@li/runtime';
import type { MatchedEvent, Warrant } from '@li/schemas';
import { encodeBatch, expirySweep, type Input } from './adapters/batch.ts';
import { stateStore } from './adapters/encoder-state.ts';
import { type LemfDirectory, openLemfDirectory } from './adapters/lemfs.ts';
import { encoderMetrics } from './adapters/metrics.ts';
import { Config } from './config.ts';
import type { EncoderOptions } from './domain/options.ts';

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
    const counters = encoderMetrics(metrics);
    // Start-up steps that do not depend on each other go out together: the topics, the schema
    // registry lookups, and (below) the LEMF directory's read beside the processor's group join.
    const topicsReady = Promise.all(
      config.tenants.map((t) =>
        bus.ensureTopics(t, ['matched', 'warrants', 'hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq']),
      ),
    );
    // A tail of li.<t>.lemfs in a group of its own. No batch is processed before it has read
    // every LEMF: onAssigned waits for it.
    const lemfsOpening = openLemfDirectory(bus, config.tenants, log, topicsReady);
    lemfsOpening.catch(() => {});
    let lemfs: LemfDirectory | undefined;
    const [matchedCodecs, warrantCodecs] = await Promise.all([
      bus.codecsFor<MatchedEvent>(config.tenants, 'matched', 'MatchedEvent'),
      // Warrant versions (admf's compacted li.<t>.warrants) give the HI1 notifications. The group
      // reads them from the beginning the first time, so every warrant's last version is known.
      bus.codecsFor<Warrant>(config.tenants, 'warrants', 'Warrant'),
      topicsReady,
    ]).catch(async (err: unknown) => {
      await lemfsOpening.then((d) => d.stop()).catch(() => {});
      throw err;
    });
    const states = stateStore(bus, config.tenants, log);
    const nowMicros = () => systemClock.now() * 1000;
    const expiry = expirySweep(
      { idleMicros: config.stateIdleSeconds * 1e6, endedRetentionMicros: config.stateEndedRetentionSeconds * 1e6 },
      nowMicros,
    );

    const groupId = deploymentGroupId('iri-encoder', config.tenants);
    const processor = createProcessor<Input>({
      kafka: bus,
      log,
      groupId,
      topics: [...matchedCodecs.keys(), ...warrantCodecs.keys()],
      transactionalIdPrefix: groupId,
      metrics,
      // A batch is one transaction (five round trips, commit markers on every output partition):
      // 4 MiB a partition instead of kafkajs's 1 takes a backlog in a quarter of the transactions.
      maxBytesPerPartition: 4 * 2 ** 20,
      async decode(bytes, topic) {
        const warrants = warrantCodecs.get(topic);
        if (warrants) return { kind: 'warrant', value: bytes === null ? null : await warrants.decode(bytes) };
        return { kind: 'matched', value: await matchedCodecs.get(topic)!.decode(bytes) };
      },
      dlqTopic: (input) => topicName(tenantOfTopic(input), 'dlq'),
      async onAssigned(assignment) {
        const tenants = [...new Set(Object.keys(assignment).map(tenantOfTopic))];
        await Promise.all([
          lemfsOpening.then((directory) => {
            lemfs = directory;
          }),
          ...tenants.map(async (tenant) => {
            await states.reload(tenant);
            expiry.reassigned(tenant);
          }),
        ]);
      },
      async process(batch, ctx) {
        const tenant = tenantOfTopic(ctx.topic);
        const { ends, ...result } = encodeBatch(tenant, states.working(tenant), batch, {
          options,
          // set by onAssigned, which every batch waits for
          lemfs: lemfs!,
          reportFrom: config.reportFrom,
          expiry,
          nowMicros,
        });
        // Warrant ends for the owner of each LIID's li.<t>.matched partition (domain/hi1.ts).
        const matched = topicName(tenant, 'matched');
        for (const m of ends) {
          result.outputs.push({ topic: matched, key: m.liid, value: await matchedCodecs.get(matched)!.encode(m) });
        }
        return result;
      },
      onCommitted(result, _records, ctx) {
        const tenant = tenantOfTopic(ctx.topic);
        states.committed(tenant, result.outputs);
        counters.written(tenant, result.outputs);
      },
    });
    try {
      await Promise.all([processor.start(), lemfsOpening]);
    } catch (err) {
      await processor.stop().catch(() => {});
      await lemfsOpening.then((d) => d.stop()).catch(() => {});
      throw err;
    }
    return {
      async stop() {
        await processor.stop();
        await (await lemfsOpening).stop();
      },
    };
  },
};
