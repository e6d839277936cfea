// What the demo reads from Kafka at its end, through the bootstrap admin: how many records the
// services' consumer groups have still to commit, and how far each tenant's DLQ has grown.
import { deploymentGroupId, topicName } from '@li/bus';
import { adminClient } from '@li/testing';
import type { Admin } from 'kafkajs';
import { backlogOf } from './report.ts';

export interface Backlog {
  total: number;
  /** Per service: target-match, iri-encoder, cc-delivery. */
  byService: Record<string, number>;
}

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
    const byService: Record<string, number> = { 'target-match': 0, 'iri-encoder': 0, 'cc-delivery': 0 };
    const groups: { service: string; groupId: string; topics: string[] }[] = [
      {
        service: 'target-match',
        groupId: deploymentGroupId('target-match', this.#tenants),
        topics: this.#tenants.map((t) => topicName(t, 'events')),
      },
      {
        service: 'iri-encoder',
        groupId: deploymentGroupId('iri-encoder', this.#tenants),
        topics: this.#tenants.flatMap((t) => [topicName(t, 'matched'), topicName(t, 'warrants')]),
      },
      ...this.#tenants.flatMap((t) =>
        this.#lemfIds.map((lemf) => ({
          service: 'cc-delivery',
          // As services/cc-delivery/src/service.ts names it: one group per LEMF.
          groupId: `li.cc-delivery.${t}.${lemf}`,
          topics: (['hi2', 'hi3', 'reports'] as const).map((s) => topicName(t, s)),
        })),
      ),
    ];
    for (const g of groups) {
      const committed = await this.#admin.fetchOffsets({ groupId: g.groupId, topics: g.topics });
      for (const c of committed) {
        const ends = await this.#admin.fetchTopicOffsets(c.topic);
        byService[g.service] = (byService[g.service] ?? 0) + backlogOf(ends, c.partitions);
      }
    }
    return { total: Object.values(byService).reduce((a, b) => a + b, 0), byService };
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
