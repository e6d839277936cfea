// The cc-delivery service against the local Kafka and schema registry: its environment, and a
// LEMF destination published the way admf publishes it.
import { type Bus, busRead, type LemfStream, lemfTopicName, topicName } from '@li/bus';
import type { LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { serviceEnv } from '@li/testing';
import { lemfGroupId } from '../../src/service.ts';
import { freePort } from './servers.ts';

export function deliveryEnv(tenants: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  return serviceEnv('cc-delivery', tenants.split(','), {
    LI_TENANTS: tenants,
    LI_OPERATOR_IDENTIFIER: 'OP1',
    ...extra,
  });
}

/**
 * A new tenant's topics and one plaintext ETSI_TCP LEMF, published, on a free port where nothing
 * listens yet (the LEMF is down until a harness starts on `port`).
 */
export async function publishDownLemf(bus: Bus, tenant: string, id: string) {
  await bus.ensureTopics(tenant, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
  const port = await freePort();
  const dest: LemfDestination = sampleLemf({
    allowInsecure: true,
    tenant,
    id,
    address: { host: '127.0.0.1', port },
    ccAddress: null,
    keepaliveSeconds: 0,
  });
  await publishLemf(bus, dest);
  return { dest, port };
}

export async function publishLemf(bus: Bus, dest: LemfDestination): Promise<void> {
  const topic = topicName(dest.tenant, 'lemfs');
  const codec = await bus.codec<LemfDestination>(topic, 'LemfDestination');
  await bus.send([{ topic, key: dest.id, value: await codec.encode(dest) }]);
}

/**
 * How many records of the LEMF's queue li.<t>.lemf.<id>.<stream> its group has committed: the
 * router writes the queue in transactions, so offsets also count commit markers, records do not.
 */
export async function committedRecords(bus: Bus, tenant: string, lemfId: string, stream: LemfStream = 'hi2') {
  const topic = lemfTopicName(tenant, lemfId, stream);
  const admin = await bus.admin();
  const [o] = await admin.fetchOffsets({ groupId: lemfGroupId(tenant, lemfId), topics: [topic] });
  const at = new Map((o?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  const records = await busRead(bus, topic);
  return records.filter((r) => Number(r.offset) < (at.get(r.partition) ?? -1)).length;
}

/** Whether the LEMF's group has committed its queue of `stream` up to the end (markers included). */
export async function committedToEnd(bus: Bus, tenant: string, lemfId: string, stream: LemfStream = 'hi2') {
  const topic = lemfTopicName(tenant, lemfId, stream);
  const admin = await bus.admin();
  const [o] = await admin.fetchOffsets({ groupId: lemfGroupId(tenant, lemfId), topics: [topic] });
  const ends = await admin.fetchTopicOffsets(topic);
  return ends.every((e) => {
    const c = o?.partitions.find((p) => p.partition === e.partition);
    return Number(e.high) === 0 || Number(c?.offset ?? -1) >= Number(e.high);
  });
}

/** Records in the LEMF's queue of `stream` and its end offset (records plus markers). */
export async function queueSize(bus: Bus, tenant: string, lemfId: string, stream: LemfStream = 'hi2') {
  const topic = lemfTopicName(tenant, lemfId, stream);
  const admin = await bus.admin();
  const ends = await admin.fetchTopicOffsets(topic).catch(() => []);
  const end = ends.reduce((n, e) => n + Number(e.high), 0);
  return { records: end === 0 ? 0 : (await busRead(bus, topic)).length, end };
}
