// What a consumer that commits only confirmed records may commit. Pure; the consumer
// (confirmed-consumer.ts) keeps the positions and calls this after every confirmation.

/** A partition's position: the offset of the next record (Kafka's commit convention). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

export const partitionKey = (p: { topic: string; partition: number }): string => `${p.topic}\u0000${p.partition}`;

/**
 * What to commit after confirmations moved `points`. Records the owner needed not take (filtered
 * out) and transaction markers read after a confirmed point need no confirmation, so once nothing
 * handed over is unconfirmed (`drained`) every partition read moves up to `readUpTo` — every one,
 * not only those of `points`: a partition whose last records were confirmed while another still
 * had records in flight would otherwise stay behind its commit marker, its lag 1 for good.
 * Offsets at or below what was already committed are left out (nothing moves backwards).
 */
export function commitPlan(
  points: readonly { topic: string; partition: number; offset: number | bigint }[],
  readUpTo: ReadonlyMap<string, PartitionOffset>,
  drained: boolean,
  committed: ReadonlyMap<string, bigint>,
): PartitionOffset[] {
  const plan = new Map<string, PartitionOffset>();
  for (const p of points)
    plan.set(partitionKey(p), { topic: p.topic, partition: p.partition, offset: BigInt(p.offset) });
  if (drained) {
    for (const [k, r] of readUpTo) {
      const at = plan.get(k);
      if (!at || r.offset > at.offset) plan.set(k, r);
    }
  }
  return [...plan].filter(([k, p]) => p.offset > (committed.get(k) ?? -1n)).map(([, p]) => p);
}
