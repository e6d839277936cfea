// High availability: several admf instances of one deployment, one writer. The instances elect
// the writer through a Kafka consumer group (@li/bus electLeader); the elected one takes the
// deployment's transactional id (fencing any earlier writer and aborting what it left open),
// then reloads the state from the topics, and only then accepts writes: the audit chain
// continues from the head the last writer committed and cannot fork. The others stand by: they
// follow the topics for reads and answer writes with ADM_ERR_STANDBY. A writer whose producer
// was fenced stands by at once and takes over again only if the group still names it.
import {
  type Bus,
  electLeader,
  type Leadership,
  parseTopic,
  readTopic,
  SYSTEM_TOPICS,
  type Tail,
  type TailRecord,
  type TransactionalProducer,
  tailTopics,
  topicName,
  transactionalProducer,
} from '@li/bus';
import type { Logger } from '@li/log';
import type { AuditRecord, LemfDestination, Tenant, Warrant } from '@li/schemas';
import { type StoreChanges, StoreNotWritable, type WarrantStore } from '../domain/model.ts';
import type { KafkaPublisher } from './kafka-store.ts';
import { readState } from './kafka-store.ts';
import { PublishingWarrantStore } from './publishing-store.ts';

/** A WarrantStore that forwards to the store of the current role (the writer's, or the followed one). */
export class SwitchingStore implements WarrantStore {
  current: WarrantStore;
  constructor(initial: WarrantStore) {
    this.current = initial;
  }
  getTenant(id: string) {
    return this.current.getTenant(id);
  }
  listTenants() {
    return this.current.listTenants();
  }
  getLemf(tenant: string, id: string) {
    return this.current.getLemf(tenant, id);
  }
  listLemfs(tenant: string) {
    return this.current.listLemfs(tenant);
  }
  getWarrant(tenant: string, key: string) {
    return this.current.getWarrant(tenant, key);
  }
  listWarrants(tenant: string) {
    return this.current.listWarrants(tenant);
  }
  listAudit(tenant: string) {
    return this.current.listAudit(tenant);
  }
  auditHead(tenant: string) {
    return this.current.auditHead(tenant);
  }
  commit(changes: StoreChanges) {
    return this.current.commit(changes);
  }
}

export type WriterRoleName = 'starting' | 'standby' | 'taking-over' | 'writer';

const readOnly = (why: string) =>
  new PublishingWarrantStore(async () => {
    throw new StoreNotWritable(why);
  });

interface WriterRoleDeps {
  bus: Bus;
  log: Logger;
  publisher: KafkaPublisher;
  store: SwitchingStore;
  /** The deployment's transactional id: whoever holds it is the only one who can write. */
  writerId: string;
  /** The election's consumer group, one per deployment. */
  electionGroup: string;
  sessionTimeoutMs: number;
  /** The tenants of this deployment (config servedTenants): the others' records are neither loaded nor followed. */
  servesTenant: (tenant: string) => boolean;
  /** Starts what only the writer runs (scheduler, account events); returns how to stop it. */
  startWriting: (tenants: readonly Tenant[]) => () => Promise<void>;
}

export class WriterRole {
  role: WriterRoleName = 'starting';
  reason = 'joining the writer election';
  private leadership: Leadership | undefined;
  private producer: TransactionalProducer | undefined;
  private stopWriting: (() => Promise<void>) | undefined;
  private follower: Tail | undefined;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly deps: WriterRoleDeps;

  constructor(deps: WriterRoleDeps) {
    this.deps = deps;
    deps.publisher.onFenced = () => void this.queue(() => this.fenced());
  }

  /** Why writes are refused now, or undefined on the writer. */
  refusal(): string | undefined {
    return this.role === 'writer' ? undefined : `admf ${this.role}: ${this.reason}`;
  }

  /** Follows the topics, joins the election, and resolves with its first outcome (writer or standby). */
  async start(): Promise<void> {
    await this.queue(async () => {
      await this.follow('another instance is the writer');
      if (this.role === 'starting') [this.role, this.reason] = ['standby', 'waiting for the writer election'];
    });
    let known!: () => void;
    const decision = new Promise<void>((r) => {
      known = r;
    });
    let settled!: () => void;
    const outcome = new Promise<void>((r) => {
      settled = r;
    });
    this.leadership = await electLeader(this.deps.bus, {
      log: this.deps.log,
      groupId: this.deps.electionGroup,
      topic: SYSTEM_TOPICS.tenants,
      sessionTimeoutMs: this.deps.sessionTimeoutMs,
      onElected: () => {
        known();
        return this.queue(() => this.takeOver()).finally(settled);
      },
      onDeposed: (reason) => {
        known();
        return this.queue(() => this.standBy(reason)).finally(settled);
      },
    });
    // The first outcome, so that a single instance takes requests as the writer from the start:
    // the group's answer (bounded: without one it stands by), then the takeover or standing by
    // it started (a takeover reads the whole state: as long as that takes).
    let timer: NodeJS.Timeout | undefined;
    const answered = await Promise.race([
      decision.then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), 2 * this.deps.sessionTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (answered) await outcome;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.leadership?.stop();
    await this.queue(() => this.standBy('stopping'));
    await this.follower?.stop().catch(() => {});
    this.follower = undefined;
  }

  private queue(step: () => Promise<void>): Promise<void> {
    const run = this.chain.then(step);
    this.chain = run.catch((err: unknown) => this.deps.log.error({ err }, 'writer role change failed'));
    return run;
  }

  private async takeOver(): Promise<void> {
    if (this.stopped || this.role === 'writer') return;
    const { bus, log, publisher, store } = this.deps;
    this.role = 'taking-over';
    this.reason = 'fencing the previous writer and reloading the state';
    const producer = transactionalProducer(bus, this.deps.writerId);
    try {
      // First the fence (every earlier writer's open transaction is aborted, its later writes
      // fail), then the state: what is read now is final, and the chain head is the true one.
      await producer.connect();
      const state = await readState(bus, publisher, this.deps.servesTenant);
      const fresh = new PublishingWarrantStore((records) => publisher.publish(records));
      await fresh.load(state);
      if (this.stopped || !this.leadership?.isLeader()) {
        await producer.close();
        this.role = 'standby';
        this.reason = 'lost the election while taking over';
        return;
      }
      await this.stopFollowing();
      this.producer = producer;
      publisher.producer = producer;
      store.current = fresh;
      this.stopWriting = this.deps.startWriting(state.tenants);
      this.role = 'writer';
      this.reason = 'writer';
      log.info({ count: state.warrants.length, records: state.audit.length }, 'admf is the writer (count: warrants)');
    } catch (err) {
      await producer.close();
      if (this.producer === producer) this.producer = undefined;
      await this.standBy(`taking over failed (${(err as Error).message}); retrying`);
      log.error({ err }, 'taking over as writer failed; retrying');
      setTimeout(() => {
        if (!this.stopped && this.leadership?.isLeader()) void this.queue(() => this.takeOver());
      }, 2_000).unref();
    }
  }

  private async standBy(reason: string, follow = true): Promise<void> {
    const { publisher, log } = this.deps;
    const wasWriter = this.role === 'writer' || this.producer !== undefined;
    this.role = 'standby';
    this.reason = reason;
    publisher.producer = undefined;
    // Reads keep coming from the last state until the followed one has caught up; writes fail
    // from here on (no producer).
    const stopWriting = this.stopWriting;
    this.stopWriting = undefined;
    await stopWriting?.().catch((err: unknown) => log.warn({ err }, 'stopping the writer tasks'));
    const producer = this.producer;
    this.producer = undefined;
    await producer?.close();
    if (wasWriter) log.warn({ reason }, 'admf stands by');
    if (follow && !this.stopped && (wasWriter || !this.follower)) await this.follow(reason);
  }

  /** The producer was fenced: stand by; write again only if the group still names this instance. */
  private async fenced(): Promise<void> {
    if (this.role !== 'writer') return;
    const reason = 'fenced: another instance took the transactional id';
    await this.standBy(reason, false);
    if (await this.leadership?.confirm()) await this.takeOver();
    else if (!this.stopped && this.role !== 'writer') await this.follow(reason);
  }

  /** The standby's reads: the topics followed into a store of their own, swapped in once caught up. */
  private async follow(reason: string): Promise<void> {
    await this.stopFollowing();
    const { bus, log, store, servesTenant } = this.deps;
    const tenants = new Set((await readStateTenants(bus)).map((t) => t.id).filter(servesTenant));
    const followed = readOnly(`this admf instance stands by (${reason})`);
    // The tenants' topics that exist (the writer creates them): one listing, not a call per tenant.
    const existing = new Set(await (await bus.admin()).listTopics());
    const topics: string[] = [SYSTEM_TOPICS.tenants];
    for (const t of tenants)
      for (const stream of ['lemfs', 'warrants', 'audit'] as const)
        if (existing.has(topicName(t, stream))) topics.push(topicName(t, stream));
    let caughtUp = false;
    const tail = await tailTopics({
      kafka: bus,
      log,
      topics,
      onRecord: async (r) => {
        const change = await decodeRecord(bus, r);
        if (!change) return;
        // The registry holds every deployment's tenants; this one keeps its own.
        if (change.tenants && !change.tenants.every((t) => servesTenant(t.id))) return;
        await followed.load(change);
        // A tenant created after the tail started: follow again with its topics.
        const created = change.tenants?.find((t) => !tenants.has(t.id));
        if (created && caughtUp) {
          tenants.add(created.id);
          void this.queue(async () => {
            if (this.follower === tail && this.role !== 'writer') await this.follow(this.reason);
          });
        }
      },
    });
    this.follower = tail;
    // Not awaited here: a takeover must not wait for a standby's reads to catch up.
    void tail.caughtUp.then(() => {
      caughtUp = true;
      if (this.role !== 'writer' && this.follower === tail) store.current = followed;
    });
  }

  private async stopFollowing(): Promise<void> {
    const tail = this.follower;
    this.follower = undefined;
    await tail?.stop().catch(() => {});
  }
}

async function readStateTenants(bus: Bus): Promise<Tenant[]> {
  const codec = await bus.codec<Tenant>(SYSTEM_TOPICS.tenants, 'Tenant');
  const byId = new Map<string, Tenant | null>();
  for (const r of await readTopic(bus, SYSTEM_TOPICS.tenants, { timeoutMs: 60_000 }))
    if (r.key) byId.set(r.key, r.value === null ? null : await codec.decode(r.value));
  return [...byId.values()].filter((t): t is Tenant => t !== null);
}

/** One followed record as the change it stands for. */
async function decodeRecord(bus: Bus, r: TailRecord): Promise<StoreChanges | undefined> {
  if (r.key === null) return undefined;
  if (r.topic === SYSTEM_TOPICS.tenants) {
    if (r.value === null) return undefined;
    return { tenants: [await (await bus.codec<Tenant>(r.topic, 'Tenant')).decode(r.value)] };
  }
  const { tenant, stream } = parseTopic(r.topic) ?? {};
  if (tenant === undefined) return undefined;
  switch (stream) {
    case 'lemfs':
      if (r.value === null) return { lemfRemovals: [{ tenant, id: r.key }] };
      return { lemfs: [await (await bus.codec<LemfDestination>(r.topic, 'LemfDestination')).decode(r.value)] };
    case 'warrants':
      if (r.value === null) return undefined;
      return { warrants: [await (await bus.codec<Warrant>(r.topic, 'Warrant')).decode(r.value)] };
    case 'audit':
      if (r.value === null) return undefined;
      return { audit: [await (await bus.codec<AuditRecord>(r.topic, 'AuditRecord')).decode(r.value)] };
    default:
      return undefined;
  }
}
