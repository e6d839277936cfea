// Each LEMF's queue on the broker: li.<t>.lemf.<id>.<hi2|hi3|reports> (libs/bus lemf-topics.ts),
// created when the LEMF (or a record naming it) first appears, with as many partitions as the
// stream it copies (so a LIID keeps one partition and its order), and emptied, and its consumer
// group deleted, once the LEMF is removed.
import { type Bus, LEMF_STREAMS, lemfTopicName, topicConfig, topicName } from '@li/bus';
import type { Logger } from '@li/log';

type Admin = Awaited<ReturnType<Bus['admin']>>;

export class LemfQueues {
  readonly #bus: Bus;
  readonly #log: Logger;
  // LEMF topics known to exist, keyed <tenant>/<id>; an ensure in progress is shared
  readonly #ready = new Map<string, Promise<void>>();

  constructor(bus: Bus, log: Logger) {
    this.#bus = bus;
    this.#log = log;
  }

  topics(tenant: string, lemfId: string): string[] {
    return LEMF_STREAMS.map((s) => lemfTopicName(tenant, lemfId, s));
  }

  /** Creates the LEMF's topics if missing and waits until the broker serves them. */
  ensure(tenant: string, lemfId: string): Promise<void> {
    const k = `${tenant}/${lemfId}`;
    let p = this.#ready.get(k);
    if (!p) {
      p = this.#createRetrying(tenant, lemfId);
      this.#ready.set(k, p);
      p.catch(() => this.#ready.delete(k));
    }
    return p;
  }

  // Creating can fail for a moment (a topic an operator deleted is still being deleted, the
  // controller is busy): try again for a while.
  async #createRetrying(tenant: string, lemfId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#create(tenant, lemfId);
      } catch (err) {
        if (attempt >= 10) throw err;
        this.#log.warn({ tenant, lemf: lemfId, attempt, err }, 'LEMF queue topics not created yet; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  async #create(tenant: string, lemfId: string): Promise<void> {
    const admin = await this.#bus.admin();
    const existing = new Set(await admin.listTopics());
    const missing = LEMF_STREAMS.filter((s) => !existing.has(lemfTopicName(tenant, lemfId, s)));
    if (missing.length > 0) {
      const sources = await admin.fetchTopicMetadata({ topics: missing.map((s) => topicName(tenant, s)) });
      const partitionsOf = (s: string) =>
        sources.topics.find((t) => t.name === topicName(tenant, s as 'hi2'))?.partitions.length ?? 1;
      await admin
        .createTopics({
          waitForLeaders: false,
          topics: missing.map((s) => ({
            topic: lemfTopicName(tenant, lemfId, s),
            numPartitions: partitionsOf(s),
            configEntries: topicConfig(s),
          })),
        })
        // another process (a second replica, or the router and a consumer) created it first
        .catch((err: unknown) => {
          if ((err as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS') throw err;
        });
    }
    await waitForLeaders(admin, this.topics(tenant, lemfId));
  }

  /**
   * A removed LEMF: its queued records and its consumer group go (best effort; a failure is
   * logged). The topics stay, empty: kafkajs producers never forget a topic they sent to, and a
   * producer whose topic was deleted fails every later metadata refresh, so deleting the topics
   * under the running router would stall it. An operator deletes them while cc-delivery is stopped.
   */
  async remove(tenant: string, lemfId: string, groupId: string): Promise<void> {
    const admin = await this.#bus.admin();
    const existing = new Set(await admin.listTopics());
    const topics = this.topics(tenant, lemfId).filter((t) => existing.has(t));
    try {
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const partitions = ends.filter((e) => e.high !== e.low).map((e) => ({ partition: e.partition, offset: '-1' }));
        // offset -1: up to the partition's end
        if (partitions.length > 0) await admin.deleteTopicRecords({ topic, partitions });
      }
      await admin.deleteGroups([groupId]).catch(() => undefined); // no group yet, or a member still leaving
      if (topics.length > 0) this.#log.info({ tenant, lemf: lemfId }, 'removed LEMF: its queued records deleted');
    } catch (err) {
      this.#log.warn({ tenant, lemf: lemfId, err }, 'removed LEMF: its queued records could not be deleted');
    }
  }
}

async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // listing offsets asks each partition's leader: metadata alone can name one too early
      for (const topic of topics) await admin.fetchTopicOffsets(topic);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
