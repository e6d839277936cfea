// What the demo reads from Kafka at its end, through the bootstrap admin: how many records the
// services' consumer groups have still to commit, and how far each tenant's DLQ has grown.
import { deploymentGroupId, kafkaSecurityOptions, LEMF_STREAMS, lemfTopicName, topicName } from '@li/bus';
import { readDeliveryHeaders } from '@li/records';
import { adminClient, testInfra } from '@li/testing';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type Uncommitted, uncommitted } from './report.ts';

export interface BacklogPart extends Uncommitted {
  service: 'target-match' | 'iri-encoder' | 'cc-delivery';
  groupId: string;
  topic: string;
  /** cc-delivery: the LEMF the group delivers to. */
  lemfId?: string;
}

export interface Backlog {
  total: number;
  /** Per service: target-match, iri-encoder, cc-delivery. */
  byService: Record<BacklogPart['service'], number>;
  parts: BacklogPart[];
}

// How long the inspection of cc-delivery's uncommitted records reads.
const INSPECT_MS = 5000;

export class PipelineOffsets {
  readonly #admin: Admin;
  readonly #tenants: readonly string[];
  readonly #lemfIds: readonly string[];

  private constructor(admin: Admin, tenants: readonly string[], lemfIds: readonly string[]) {
    this.#admin = admin;
    this.#tenants = tenants;
    this.#lemfIds = lemfIds;
  }

  /** `lemfIds`: the demo's LEMFs, whose cc-delivery groups are li.cc-delivery.<t>.<lemf>. */
  static async connect(tenants: readonly string[], lemfIds: readonly string[]): Promise<PipelineOffsets> {
    return new PipelineOffsets(await adminClient('li-demo'), tenants, lemfIds);
  }

  async backlog(): Promise<Backlog> {
    const streams = (t: string, list: readonly ('events' | 'matched' | 'warrants' | 'hi2' | 'hi3' | 'reports')[]) =>
      list.map((s) => topicName(t, s));
    const groups: (Omit<BacklogPart, keyof Uncommitted | 'topic'> & { topics: string[] })[] = [
      {
        service: 'target-match',
        groupId: deploymentGroupId('target-match', this.#tenants),
        topics: this.#tenants.flatMap((t) => streams(t, ['events'])),
      },
      {
        service: 'iri-encoder',
        groupId: deploymentGroupId('iri-encoder', this.#tenants),
        topics: this.#tenants.flatMap((t) => streams(t, ['matched', 'warrants'])),
      },
      // As services/cc-delivery/src names them: a router group per tenant over its streams, and
      // one group per LEMF over the LEMF's own queue topics.
      ...this.#tenants.flatMap((t) => [
        {
          service: 'cc-delivery' as const,
          groupId: `li.cc-delivery.${t}.router.streams`,
          topics: streams(t, ['hi2', 'hi3', 'reports']),
        },
        ...this.#lemfIds.map((lemfId) => ({
          service: 'cc-delivery' as const,
          groupId: `li.cc-delivery.${t}.${lemfId}`,
          lemfId,
          topics: LEMF_STREAMS.map((s) => lemfTopicName(t, lemfId, s)),
        })),
      ]),
    ];
    const parts: BacklogPart[] = [];
    for (const { topics, ...g } of groups) {
      // a LEMF's queue exists once cc-delivery has seen the LEMF (or a record for it)
      const existing = new Set(await this.#admin.listTopics());
      const present = topics.filter((t) => existing.has(t));
      if (present.length === 0) continue;
      const committed = await this.#admin.fetchOffsets({ groupId: g.groupId, topics: present });
      for (const c of committed) {
        const ends = await this.#admin.fetchTopicOffsets(c.topic);
        for (const u of uncommitted(ends, c.partitions)) parts.push({ ...g, topic: c.topic, ...u });
      }
    }
    const byService = { 'target-match': 0, 'iri-encoder': 0, 'cc-delivery': 0 };
    for (const p of parts) byService[p.service] += p.high - p.from;
    return { total: parts.reduce((n, p) => n + p.high - p.from, 0), byService, parts };
  }

  /**
   * How many of cc-delivery's uncommitted records are addressed (li.lemfs header) to the group's
   * LEMF. The rest are other LEMFs' records the group has read past without committing.
   */
  async addressed(parts: readonly BacklogPart[]): Promise<number> {
    const cc = parts.filter((p) => p.service === 'cc-delivery' && p.lemfId);
    if (cc.length === 0) return 0;
    const infra = testInfra();
    const groupId = `li-demo-inspect-${Date.now()}`;
    const consumer = new Kafka({
      clientId: 'li-demo',
      brokers: infra.brokers,
      ...kafkaSecurityOptions(infra.security),
      logLevel: logLevel.NOTHING,
    }).consumer({ groupId, readUncommitted: false });
    let own = 0;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [...new Set(cc.map((p) => p.topic))], fromBeginning: true });
      const run = consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const offset = Number(message.offset);
          const read = readDeliveryHeaders(message.headers ?? {});
          const lemfs = read.ok ? read.value.lemfs : [];
          for (const p of cc) {
            const inRange = p.topic === topic && p.partition === partition && offset >= p.from && offset < p.high;
            if (inRange && lemfs.includes(p.lemfId ?? '')) own++;
          }
        },
      });
      // Straight to the uncommitted offsets (the lowest, where groups share a partition).
      const from = new Map<string, BacklogPart>();
      for (const p of cc) {
        const k = `${p.topic}\u0000${p.partition}`;
        if ((from.get(k)?.from ?? Number.POSITIVE_INFINITY) > p.from) from.set(k, p);
      }
      for (const p of from.values()) consumer.seek({ topic: p.topic, partition: p.partition, offset: String(p.from) });
      await run;
      await new Promise((r) => setTimeout(r, INSPECT_MS));
    } finally {
      await consumer.disconnect();
      await this.#admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return own;
  }

  /** End offset of each tenant's li.<t>.dlq (records plus transaction markers). */
  async dlqEnds(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of this.#tenants) {
      const ends = await this.#admin.fetchTopicOffsets(topicName(t, 'dlq'));
      out[t] = ends.reduce((n, e) => n + Number(e.high), 0);
    }
    return out;
  }

  async close(): Promise<void> {
    await this.#admin.disconnect();
  }
}
