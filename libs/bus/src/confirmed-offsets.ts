// What a consumer that commits only confirmed records may commit, and which records it read
// before. Pure; the consumer (confirmed-consumer.ts) keeps the positions and calls these.

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

/**
 * Raises each partition's done point (the offset below which this process's peer confirmed
 * every record handed over, or none needed confirming) to the offsets it decided to commit,
 * whether or not that commit reached the broker. Only forward.
 */
export function raiseDone(done: Map<string, PartitionOffset>, offsets: readonly PartitionOffset[]): void {
  for (const p of offsets) {
    const k = partitionKey(p);
    const at = done.get(k);
    if (!at || p.offset > at.offset) done.set(k, p);
  }
}

/**
 * How many of a batch's first records (offsets ascending) lie below the partition's done point:
 * read again (kafkajs restarted its consumer from the committed offset after a broker outage or
 * a failed commit, or the partition came back to this process), and confirmed already, so they
 * go to the owner no more. Records at or above the point are always handed over: skipping one
 * of them could lose it.
 */
export function doneBefore(offsets: readonly (string | bigint)[], done: PartitionOffset | undefined): number {
  if (!done) return 0;
  let n = 0;
  while (n < offsets.length && BigInt(offsets[n]!) < done.offset) n++;
  return n;
}

/**
 * A member's hold on its partitions, per assignment (join): which partitions the last join gave
 * it, and whether a rebalance noticed since that join is being handed over. Everything decided
 * below is tied to the join it was made for: a later join ends the hand-over by itself.
 */
export interface Assignment {
  join: number;
  owned: ReadonlySet<string>;
  /** The join whose rebalance is being handed over (the member has not rejoined yet), or -1. */
  handingOver: number;
}

/**
 * Whether a batch fetched for the assignment of join `join` goes to the owner: only under that
 * same assignment, for one of its partitions, and not once a rebalance of it is being handed
 * over (the next owner, maybe another process, reads the batch from what is committed). A batch
 * not handed over must leave the read position where it was, so that nothing is committed past
 * it; kafkajs reads it again after the rejoin.
 */
export function mayHandOver(a: Assignment, p: { topic: string; partition: number }, join: number): boolean {
  return join === a.join && a.handingOver !== a.join && a.owned.has(partitionKey(p));
}

/**
 * The commits this member makes: only for partitions of its current assignment. A partition
 * another member owns now has its offset moved by that member; a late commit from here could
 * move it back (resends) and is left out. Leaving a commit out never loses a record.
 */
export function ownedOnly(offsets: readonly PartitionOffset[], a: Assignment): PartitionOffset[] {
  return offsets.filter((p) => a.owned.has(partitionKey(p)));
}
