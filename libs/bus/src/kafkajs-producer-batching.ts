// Two per-record costs of kafkajs 2.2.4's producer, found in the CPU profiles of every stage
// under load (docs/PERFORMANCE.md):
// - groupMessagesPerPartition (node_modules/kafkajs/src/producer/groupMessagesPerPartition.js)
//   copies a partition's whole array for each message it adds (`[...current, message]`): a
//   batch of n records to one partition costs n²/2 copies. Replaced by the same grouping with a
//   push, same output (an object of partition → messages in input order).
// - its DefaultPartitioner hashes each key with a murmur2 on 64-bit Long objects and filters
//   the partition list per message. fastDefaultPartitioner gives the same partition for every
//   key (the same Java-compatible murmur2 on 32-bit integers; property-tested against kafkajs's)
//   and the same round-robin for records without a key.
// sendMessages.js takes groupMessagesPerPartition when it is first loaded, so this module must
// run before kafkajs is loaded: bus.ts imports it first, and every package entry loads bus.ts.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface PartitionMetadata {
  partitionId: number;
  leader: number;
}
interface PartitionerArgs {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  message: { partition?: number | null; key?: Buffer | string | null };
}
type Partitioner = (args: PartitionerArgs) => number;

function groupMessagesPerPartition<M extends PartitionerArgs['message']>({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: {
  topic: string;
  partitionMetadata: PartitionMetadata[];
  messages: M[];
  partitioner: Partitioner;
}): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = result[partition];
    if (list) list.push(message);
    else result[partition] = [message];
  }
  return result;
}

const groupPath = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
require(groupPath);
const cached = require.cache[groupPath];
if (cached) cached.exports = groupMessagesPerPartition;

/** Whether kafkajs's producer was loaded with the grouping above (false: it was loaded first). */
export function producerGroupingPatched(): boolean {
  const sendMessages = require('kafkajs/src/producer/sendMessages.js') as unknown;
  return typeof sendMessages === 'function' && require(groupPath) === groupMessagesPerPartition;
}

/** Kafka's (Java client's) murmur2 of the key bytes, in 32-bit integer arithmetic. */
export function murmur2(key: Buffer | string): number {
  const data = typeof key === 'string' ? Buffer.from(key) : key;
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const tail = length & ~3;
  for (let i = 0; i < tail; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  // The tail bytes, last first, as the Java client's switch falls through them.
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2]! << 16;
  if (rest >= 2) h ^= data[tail + 1]! << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail]!, m);
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of `partitions` a keyed record goes to (what the bus's producers pick). */
export function partitionOfKey(key: Buffer | string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/** kafkajs's DefaultPartitioner, without its per-record Long arithmetic and list filtering. */
export function fastDefaultPartitioner(): Partitioner {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key !== null && message.key !== undefined) return partitionOfKey(message.key, partitionMetadata.length);
    const counter = (counters.get(topic) ?? randomBytes(4).readUInt32BE(0)) + 1;
    counters.set(topic, counter);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[(counter & 0x7fffffff) % available.length]!.partitionId;
    return (counter & 0x7fffffff) % partitionMetadata.length;
  };
}
