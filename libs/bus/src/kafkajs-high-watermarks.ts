// The high watermark of each partition of a topic: the end of the log, transactions still open
// included. kafkajs 2.2.4's admin lists offsets read_committed only (its cluster has no isolation
// level, and the ListOffsets request defaults to READ_COMMITTED), which gives the last stable
// offset: the start of the oldest open transaction. A reader that stops there misses every record
// committed after that transaction began (a dead producer's transaction stays open until its
// transactional id is fenced or it times out). So this asks with READ_UNCOMMITTED through a
// cluster of the client's own making (node_modules/kafkajs/src/index.js createCluster).
import type { Kafka } from 'kafkajs';

const READ_UNCOMMITTED = 0;

interface KafkaCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  refreshMetadataIfNecessary(): Promise<void>;
  findTopicPartitionMetadata(topic: string): { partitionId: number }[];
  fetchTopicsOffset(
    topics: { topic: string; fromBeginning: boolean; partitions: { partition: number }[] }[],
  ): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
}

type CreateCluster = (o: { allowAutoTopicCreation: boolean; isolationLevel: number }) => KafkaCluster;

function createClusterOf(kafka: Kafka): CreateCluster {
  const key = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
  const create = key ? (kafka as unknown as Record<symbol, unknown>)[key] : undefined;
  if (typeof create !== 'function') throw new Error('kafkajs internals changed: no createCluster on the client');
  return create as CreateCluster;
}

/** Per partition, the offset after the last record written (committed, aborted or still open). */
export async function highWatermarks(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const cluster = createClusterOf(kafka)({ allowAutoTopicCreation: false, isolationLevel: READ_UNCOMMITTED });
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    await cluster.refreshMetadataIfNecessary();
    const partitions = cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId }));
    const [t] = await cluster.fetchTopicsOffset([{ topic, fromBeginning: false, partitions }]);
    return new Map((t?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await cluster.disconnect();
  }
}
