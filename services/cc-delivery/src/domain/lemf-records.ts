// Which records of li.<t>.hi2/hi3/reports a LEMF's consumer takes: only those whose li.lemfs
// header names the LEMF, in a format and stream it takes (formats.ts: its transport, and for a
// file LEMF its files.streams and files.format).
import { parseLemfTopic, readDeliveryHeaders } from '@li/records';
import type { LemfDestination } from '@li/schemas';
import { carries } from './formats.ts';
import type { DeliveryRecord, Stream } from './types.ts';

/** A record as the broker hands it (kafkajs KafkaMessage, reduced to what is read here). */
export interface SourceMessage {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/** A record whose li.* headers cannot be read: dead-lettered with the refusal's code and reason. */
export interface RefusedMessage {
  message: SourceMessage;
  code: 'BUS_ERR_HEADER';
  reason: string;
}

const STREAM_OF = { hi2: 'HI2', hi3: 'HI3', reports: 'REPORT' } as const satisfies Record<string, Stream>;

/** The stream of a LEMF's queue li.<t>.lemf.<id>.<hi2|hi3|reports>; undefined for any other topic. */
export function streamOfTopic(topic: string): Stream | undefined {
  const parsed = parseLemfTopic(topic);
  return parsed ? STREAM_OF[parsed.stream] : undefined;
}

/**
 * The LEMF's records of one batch of `topic`/`partition`, keyed to the wiring's `lemfKey`, and the
 * records refused for a missing or malformed header (the router dead-letters those; only a record
 * not copied by it can reach a queue so).
 */
export function lemfRecords(
  dest: Pick<LemfDestination, 'id' | 'transport' | 'files'>,
  lemfKey: string,
  source: { topic: string; partition: number; stream: Stream },
  messages: readonly SourceMessage[],
): { records: DeliveryRecord[]; refused: RefusedMessage[] } {
  const records: DeliveryRecord[] = [];
  const refused: RefusedMessage[] = [];
  for (const m of messages) {
    const read = readDeliveryHeaders(m.headers ?? {});
    if (!read.ok) {
      refused.push({ message: m, code: read.code, reason: read.reason });
      continue;
    }
    const h = read.value;
    if (!h.lemfs.includes(dest.id)) continue; // another LEMF's record
    if (!carries(dest, source.stream, h.format)) continue;
    records.push({
      ...(h.format ? { format: h.format } : {}),
      lemfId: lemfKey,
      liid: h.liid ?? m.key?.toString() ?? '',
      // reports carry no CIN or sequence number
      cin: h.cin ?? 0,
      seq: h.seq ?? 0,
      stream: source.stream,
      bytes: m.value ?? Buffer.alloc(0),
      source: { topic: source.topic, partition: source.partition, offset: Number(m.offset) },
    });
  }
  return { records, refused };
}
