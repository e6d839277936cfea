// kafkajs 2.2.4 encodes a produce request (v3, which v4-v7 reuse) level by level: the records
// into the batch body, the body after the batch header, the batch after its offset and length,
// then into the partition's, the topic's and the request's encoders, each a copy of everything
// below it into a new buffer. Those copies were ~9 % of mcid-store's CPU under bench:mcid
// (state records of ~1 KB, requests of ~1 MB). Here an uncompressed request's payload is laid
// out in one buffer of its exact size: the small headers through kafkajs's own Encoder, each
// record copied once, and the batch checksum taken in place. Compressed requests keep kafkajs's
// encoding. Same bytes (property test against kafkajs's encode). Must load after
// kafkajs-records.ts (the record encoder it takes) and before kafkajs's producer modules
// (produce/v4..v7 take v3 when first loaded): bus.ts imports it so.
import { createRequire } from 'node:module';
import { KafkajsEncoder } from './kafkajs-encoder-growth.ts';

const require = createRequire(import.meta.url);

interface Enc {
  buf: Buffer;
  offset: number;
  readonly buffer: Buffer;
  writeInt8(v: number): Enc;
  writeInt16(v: number): Enc;
  writeInt32(v: number): Enc;
  writeInt64(v: unknown): Enc;
  writeString(v: string | null): Enc;
}
interface Message {
  timestamp?: unknown;
  [k: string]: unknown;
}
interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: Message[];
}
interface TopicData {
  topic: string;
  partitions: PartitionData[];
}
interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}
interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse(): boolean;
  encode(): Promise<Enc>;
}

const v3Path = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
const v4Path = require.resolve('kafkajs/src/protocol/requests/produce/v4/request.js');
const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const crcPath = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
const v4LoadedFirst = require.cache[v4Path] !== undefined;
const Long = require('kafkajs/src/utils/long.js') as { fromInt(n: number): unknown };
const NONE = 0; // CompressionTypes.None
const MAGIC_BYTE = 2;
const TRANSACTIONAL_MASK = 16;

/** kafkajs's own produce v3 request, kept for compressed requests and the test that compares bytes. */
export const kafkajsProduceV3 = require(v3Path) as (args: ProduceArgs) => ProduceRequest;

const enc = () => new KafkajsEncoder() as unknown as Enc;

interface PartitionPlan {
  head: Enc; // partition, batch size, first offset, batch length, leader epoch, magic
  bodyHead: Enc; // the batch body up to and with the record count
  records: Buffer[];
  bodyLength: number;
}

function planPartition(p: PartitionData, transactionalId: string | null, producerId: unknown, producerEpoch: number) {
  const record = require(recordPath) as (fields: object) => { buffer: Buffer };
  const dateNow = Date.now();
  // As kafkajs: the first and largest timestamp by a default (text) sort.
  const timestamps = p.messages
    .map((m) => m.timestamp)
    .filter((t) => t != null)
    .sort();
  const stamps = timestamps.length === 0 ? [dateNow] : timestamps;
  const firstTimestamp = stamps[0] as number;
  const maxTimestamp = stamps[stamps.length - 1];
  const records = p.messages.map(
    (m, i) =>
      record({
        ...m,
        offsetDelta: i,
        timestampDelta: ((m.timestamp as number) || dateNow) - firstTimestamp,
      }).buffer,
  );
  const bodyHead = enc()
    .writeInt16(transactionalId ? TRANSACTIONAL_MASK : 0)
    .writeInt32(records.length - 1)
    .writeInt64(firstTimestamp)
    .writeInt64(maxTimestamp)
    .writeInt64(producerId)
    .writeInt16(producerEpoch)
    .writeInt32(p.firstSequence === undefined ? 0 : p.firstSequence)
    .writeInt32(records.length);
  let bodyLength = bodyHead.offset;
  for (const r of records) bodyLength += r.length;
  const batchLength = 4 + 1 + 4 + bodyLength; // leader epoch, magic, crc, body
  const head = enc()
    .writeInt32(p.partition)
    .writeInt32(8 + 4 + batchLength)
    .writeInt64(Long.fromInt(0))
    .writeInt32(batchLength)
    .writeInt32(0)
    .writeInt8(MAGIC_BYTE);
  return { head, bodyHead, records, bodyLength } satisfies PartitionPlan;
}

async function encodeUncompressed(args: ProduceArgs): Promise<Enc> {
  const transactionalId = args.transactionalId === undefined ? null : args.transactionalId;
  const producerId = args.producerId === undefined ? Long.fromInt(-1) : args.producerId;
  const producerEpoch = args.producerEpoch === undefined ? 0 : args.producerEpoch;
  const crc32c = require(crcPath) as (b: Buffer) => number;
  const head = enc()
    .writeString(transactionalId)
    .writeInt16(args.acks)
    .writeInt32(args.timeout)
    .writeInt32(args.topicData.length);
  let size = head.offset;
  const topics = args.topicData.map((t) => {
    const topicHead = enc().writeString(t.topic).writeInt32(t.partitions.length);
    size += topicHead.offset;
    const partitions = t.partitions.map((p) => {
      const plan = planPartition(p, transactionalId, producerId, producerEpoch);
      size += plan.head.offset + 4 + plan.bodyLength;
      return plan;
    });
    return { topicHead, partitions };
  });
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  const put = (b: Buffer, length = b.length) => {
    b.copy(out, at, 0, length);
    at += length;
  };
  put(head.buf, head.offset);
  for (const t of topics) {
    put(t.topicHead.buf, t.topicHead.offset);
    for (const p of t.partitions) {
      put(p.head.buf, p.head.offset);
      const crcAt = at;
      at += 4;
      put(p.bodyHead.buf, p.bodyHead.offset);
      for (const r of p.records) put(r);
      out.writeUInt32BE(crc32c(out.subarray(crcAt + 4, at)), crcAt);
    }
  }
  const e = new KafkajsEncoder(1) as unknown as Enc;
  e.buf = out;
  e.offset = size;
  return e;
}

/** The produce v3 request; an uncompressed one encoded in one buffer. */
export function produceV3(args: ProduceArgs): ProduceRequest {
  const request = kafkajsProduceV3(args);
  // As kafkajs: only an absent compression defaults to none (null goes its compression path).
  if ((args.compression === undefined ? NONE : args.compression) !== NONE) return request;
  return { ...request, encode: () => encodeUncompressed(args) };
}

const cachedV3 = require.cache[v3Path];
if (cachedV3) cachedV3.exports = produceV3;

export function produceRequestPatched(): boolean {
  return !v4LoadedFirst && require(v3Path) === produceV3;
}
