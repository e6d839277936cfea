// Consumer lag of one LEMF's group on one topic: the records it has not committed yet. Pure:
// the adapter (adapters/consumer-lag.ts) fetches the offsets from Kafka.

export interface PartitionEnds {
  partition: number;
  /** end of the partition: the offset after its last record (as a decimal string, like kafkajs) */
  high: string;
  /** first offset still in the log */
  low: string;
}

/** The group's committed offset per partition; '-1' (or absent) when it has committed nothing. */
export interface GroupOffset {
  partition: number;
  offset: string;
}

/**
 * Sum over the topic's partitions of (end − committed offset), or (end − first offset) where the
 * group committed nothing. A committed offset below the first offset (records deleted by
 * retention) counts from the first offset, where the consumer would resume.
 */
export function consumerLag(ends: readonly PartitionEnds[], committed: readonly GroupOffset[]): number {
  const byPartition = new Map(committed.map((c) => [c.partition, BigInt(c.offset)]));
  let lag = 0n;
  for (const e of ends) {
    const high = BigInt(e.high);
    const low = BigInt(e.low);
    const c = byPartition.get(e.partition) ?? -1n;
    const from = c >= 0n && c > low ? c : low;
    if (high > from) lag += high - from;
  }
  return Number(lag);
}
