// What the bus's helpers (processors, tails, readTopic, transactional producers, leadership)
// run on: the bus itself, so services never reach for its Kafka client, or a bare kafkajs client
// (tests, benchmarks).
import type { Kafka } from 'kafkajs';

export type BusClient = Kafka | { readonly kafka: Kafka };

export function clientOf(c: BusClient): Kafka {
  return 'kafka' in c ? c.kafka : c;
}
