// kafkajs 2.2.4 asks the broker for the coordinator (FindCoordinator) every time it needs one
// (node_modules/kafkajs/src/cluster/index.js findGroupCoordinatorMetadata), and a transactional
// batch needs one four times: sendBatch and commit find the transaction coordinator, sendOffsets
// the transaction and the group coordinator. That is four of the nine round trips of each
// processor batch (profiled under load: bench/e2e, docs/PERFORMANCE.md). This keeps the answer
// for a second per (type, group/transactional id). The broker object is still taken from the
// pool on each call, so a reconnected broker is used; a coordinator that moved answers
// NOT_COORDINATOR, and kafkajs's retries (300 ms and up) find the new one once the second is over.
import { createRequire } from 'node:module';

interface CoordinatorMetadata {
  coordinator: { nodeId: number };
}
interface KafkaCluster {
  findGroupCoordinatorMetadata(args: { groupId: string; coordinatorType?: number }): Promise<CoordinatorMetadata>;
}

const COORDINATOR_TTL_MS = 1000;

const Cluster = createRequire(import.meta.url)('kafkajs/src/cluster/index.js') as {
  prototype: KafkaCluster;
};
const lookup = Cluster.prototype.findGroupCoordinatorMetadata;
const cacheOf = new WeakMap<KafkaCluster, Map<string, { at: number; value: Promise<CoordinatorMetadata> }>>();

Cluster.prototype.findGroupCoordinatorMetadata = function (
  this: KafkaCluster,
  args: { groupId: string; coordinatorType?: number },
): Promise<CoordinatorMetadata> {
  let cache = cacheOf.get(this);
  if (!cache) {
    cache = new Map();
    cacheOf.set(this, cache);
  }
  const key = `${args.coordinatorType ?? 0}:${args.groupId}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < COORDINATOR_TTL_MS) return hit.value;
  const value = lookup.call(this, args);
  const entry = { at: now, value };
  cache.set(key, entry);
  // A failed lookup is never reused.
  value.catch(() => {
    if (cache.get(key) === entry) cache.delete(key);
  });
  return value;
};
