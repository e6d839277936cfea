// The iri-encoder service: consumes li.<t>.matched and li.<t>.warrants and produces, in one Kafka
// transaction per batch, the records of adapters/batch.ts and the input offsets.
import { createProcessor, deploymentGroupId, tenantOfTopic, topicName } from '@li/bus';
import { systemClock } from '@li/core';
import type { ServiceDefinition } from '@li/runtime';
import type { MatchedEvent, Warrant } from '@li/schemas';
import { encodeBatch, expirySweep, type Input } from './adapters/batch.ts';
import { stateStore } from './adapters/encoder-state.ts';
import { openLemfDirectory } from './adapters/lemfs.ts';
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
    for (const t of config.tenants) {
      await bus.ensureTopics(t, ['matched', 'warrants', 'hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq']);
    }
    const lemfs = await openLemfDirectory(bus, config.tenants, log);
    const states = stateStore(bus, config.tenants, log);
    const nowMicros = () => systemClock.now() * 1000;
    const expiry = expirySweep(
      { idleMicros: config.stateIdleSeconds * 1e6, endedRetentionMicros: config.stateEndedRetentionSeconds * 1e6 },
      nowMicros,
    );

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
      dlqTopic: (input) => topicName(tenantOfTopic(input), 'dlq'),
      async onAssigned(assignment) {
        for (const tenant of new Set(Object.keys(assignment).map(tenantOfTopic))) {
          await states.reload(tenant);
          expiry.reassigned(tenant);
        }
      },
      async process(batch, ctx) {
        const tenant = tenantOfTopic(ctx.topic);
        const { ends, ...result } = encodeBatch(tenant, states.working(tenant), batch, {
          options,
          lemfs,
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
    await processor.start();
    return {
      async stop() {
        await processor.stop();
        await lemfs.stop();
      },
    };
  },
};
