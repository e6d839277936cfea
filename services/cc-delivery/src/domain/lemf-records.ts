// Which records of li.<t>.hi2/hi3/reports a LEMF's consumer takes: only those whose li.lemfs
// header names the LEMF, in a format and stream it takes (formats.ts: its transport, and for a
// file LEMF its files.streams and files.format).
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

const STREAM_OF: Record<string, Stream> = { hi2: 'HI2', hi3: 'HI3', reports: 'REPORT' };

/** The stream of a LEMF's queue li.<t>.lemf.<id>.<hi2|hi3|reports>; undefined for any other topic. */
export function streamOfTopic(topic: string): Stream | undefined {
  const parts = topic.split('.');
  return parts.length === 5 && parts[2] === 'lemf' ? STREAM_OF[parts[4] ?? ''] : undefined;
}

/** The LEMF's records of one batch of `topic`/`partition`, keyed to the wiring's `lemfKey`. */
export function lemfRecords(
  dest: Pick<LemfDestination, 'id' | 'transport' | 'files'>,
  lemfKey: string,
  source: { topic: string; partition: number; stream: Stream },
  messages: readonly SourceMessage[],
): DeliveryRecord[] {
  const records: DeliveryRecord[] = [];
  for (const m of messages) {
    const lemfs = (m.headers?.['li.lemfs']?.toString() ?? '').split(',');
    if (!lemfs.includes(dest.id)) continue; // another LEMF's record
    const format = m.headers?.['li.format']?.toString();
    if (!carries(dest, source.stream, format)) continue;
    records.push({
      ...(format === 'TS102232' || format === 'TS101671' ? { format } : {}),
      lemfId: lemfKey,
      liid: m.headers?.['li.liid']?.toString() ?? m.key?.toString() ?? '',
      cin: Number(m.headers?.['li.cin']?.toString() ?? 0),
      seq: Number(m.headers?.['li.seq']?.toString() ?? 0),
      stream: source.stream,
      bytes: m.value ?? Buffer.alloc(0),
      source: { topic: source.topic, partition: source.partition, offset: Number(m.offset) },
    });
  }
  return records;
}
