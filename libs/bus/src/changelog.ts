// State backed by a compacted changelog topic (li.<t>.encoder-state and the like): the live
// entries in memory, each change a record keyed by the entry's key (null value = tombstone, so
// compaction drops the key). Changes that go with consumed offsets or other outputs are written
// in the same transaction: the processor's (the records go into its batch's outputs and are
// applied in onCommitted) or the service's own (write() with a TransactionalProducer). State
// saved ahead of its use and tied to nothing else may be sent alone (cc-delivery's file numbers).
// Restoring reads committed records only (an aborted or open transaction's changes are not
// state) and keeps the live entries.
import type { OutputRecord } from './bus.ts';
import type { BusClient } from './client.ts';
import { readTopic } from './read-topic.ts';
import type { TransactionalProducer } from './transactional.ts';

export interface ChangelogCodec<V> {
  encode(value: V): Buffer;
  decode(bytes: Buffer): V;
}

/** Values as JSON: for state only this service reads. */
export function jsonChangelog<V>(): ChangelogCodec<V> {
  return {
    encode: (v) => Buffer.from(JSON.stringify(v)),
    decode: (b) => JSON.parse(b.toString('utf8')) as V,
  };
}

export interface ChangelogChange<V> {
  key: string;
  /** null: the key is deleted (a tombstone on the topic). */
  value: V | null;
}

/** A changelog topic with its codec: its records, and its live entries read back. */
export class Changelog<V> {
  readonly topic: string;
  private readonly codec: ChangelogCodec<V>;

  constructor(topic: string, codec: ChangelogCodec<V>) {
    this.topic = topic;
    this.codec = codec;
  }

  /** The record of one change, to send in the transaction that makes the change. */
  record(change: ChangelogChange<V>): OutputRecord {
    return {
      topic: this.topic,
      key: change.key,
      value: change.value === null ? null : this.codec.encode(change.value),
    };
  }

  /** The changes among a committed transaction's outputs (this topic's records), in order. */
  changesOf(outputs: readonly OutputRecord[]): ChangelogChange<V>[] {
    const out: ChangelogChange<V>[] = [];
    for (const o of outputs) {
      if (o.topic !== this.topic || o.key === null) continue;
      out.push({ key: o.key, value: o.value === null ? null : this.codec.decode(o.value) });
    }
    return out;
  }

  /** The committed live entries (last value per key; tombstones delete) and how many records held them. */
  async read(
    client: BusClient,
    options: { timeoutMs?: number } = {},
  ): Promise<{ live: Map<string, V>; records: number }> {
    const live = new Map<string, V>();
    let records = 0;
    // A dead producer's transaction holds the read until its transactional id is fenced or the
    // broker times it out (the processors' transactionTimeout, 60 s): give it that long.
    for (const r of await readTopic(client, this.topic, { timeoutMs: 90_000, ...options })) {
      if (r.key === null) continue;
      records++;
      if (r.value === null) live.delete(r.key);
      else live.set(r.key, this.codec.decode(r.value));
    }
    return { live, records };
  }
}

/** The live entries of a changelog in memory, restored from it and kept by committed changes. */
export class ChangelogStore<V> {
  readonly changelog: Changelog<V>;
  private readonly client: BusClient;
  private live = new Map<string, V>();

  constructor(client: BusClient, topic: string, codec: ChangelogCodec<V>) {
    this.client = client;
    this.changelog = new Changelog(topic, codec);
  }

  get size(): number {
    return this.live.size;
  }
  get(key: string): V | undefined {
    return this.live.get(key);
  }
  entries(): IterableIterator<[string, V]> {
    return this.live.entries();
  }

  /** Replaces the contents with the topic's committed live entries. */
  async restore(options: { timeoutMs?: number } = {}): Promise<{ records: number; live: number }> {
    const { live, records } = await this.changelog.read(this.client, options);
    this.live = live;
    return { records, live: live.size };
  }

  /** The record of one change, to send in the transaction that makes it (e.g. a processor batch's outputs). */
  record(change: ChangelogChange<V>): OutputRecord {
    return this.changelog.record(change);
  }

  /** Applies changes once their transaction committed. */
  apply(changes: readonly ChangelogChange<V>[]): void {
    for (const c of changes) {
      if (c.value === null) this.live.delete(c.key);
      else this.live.set(c.key, c.value);
    }
  }

  /** Applies this topic's records of a committed transaction (the processor's onCommitted). */
  committed(outputs: readonly OutputRecord[]): void {
    this.apply(this.changelog.changesOf(outputs));
  }

  /**
   * Writes the changes (and `withRecords`, other records of the same change) in one transaction
   * of the service's own producer, then applies them; a failed transaction changes nothing here.
   */
  async write(
    producer: TransactionalProducer,
    changes: readonly ChangelogChange<V>[],
    withRecords: readonly OutputRecord[] = [],
  ): Promise<void> {
    await producer.send([...withRecords, ...changes.map((c) => this.record(c))]);
    this.apply(changes);
  }
}
