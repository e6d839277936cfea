// The cc-delivery service against the local Kafka and schema registry: its environment, and a
// LEMF destination published the way admf publishes it.
import { type Bus, topicName } from '@li/bus';
import type { LemfDestination } from '@li/schemas';
import { serviceEnv } from '@li/testing';

export function deliveryEnv(tenants: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return serviceEnv('cc-delivery', tenants.split(','), {
    LI_TENANTS: tenants,
    LI_OPERATOR_IDENTIFIER: 'OP1',
    ...extra,
  });
}

export async function publishLemf(bus: Bus, dest: LemfDestination): Promise<void> {
  const topic = topicName(dest.tenant, 'lemfs');
  const codec = await bus.codec<LemfDestination>(topic, 'LemfDestination');
  await bus.send([{ topic, key: dest.id, value: await codec.encode(dest) }]);
}
