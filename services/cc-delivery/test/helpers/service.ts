// The cc-delivery service against the local Kafka and schema registry: its environment, and a
// LEMF destination published the way admf publishes it.
import { type Bus, topicName } from '@li/bus';
import type { LemfDestination } from '@li/schemas';
import { testInfra } from '@li/testing';

export function deliveryEnv(tenants: string, extra: Record<string, string> = {}): Record<string, string> {
  const infra = testInfra();
  return {
    LI_TENANTS: tenants,
    LI_KAFKA_BROKERS: infra.brokers.join(','),
    LI_SCHEMA_REGISTRY_URL: infra.registryUrl,
    LI_METRICS_PORT: '0',
    LI_LOG_LEVEL: 'error',
    LI_OPERATOR_IDENTIFIER: 'OP1',
    ...extra,
  };
}

export async function publishLemf(bus: Bus, dest: LemfDestination): Promise<void> {
  const topic = topicName(dest.tenant, 'lemfs');
  const codec = await bus.codec<LemfDestination>(topic, 'LemfDestination');
  await bus.send([{ topic, key: dest.id, value: await codec.encode(dest) }]);
}
