// One leader among the instances of a deployment, elected by a Kafka consumer group: every
// candidate joins the same group on a one-partition topic, and the member the group assigns
// partition 0 leads. A dead leader stops heartbeating; after the session timeout the group
// gives the partition to another member. The group is the arbiter, not the guarantee: a leader
// that lost the group without noticing yet (a paused process, a partition) is stopped by the
// transactional id its successor took (see transactional.ts), and its writes fail.
import type { Logger } from '@li/log';
import { type Assigner, AssignerProtocol } from 'kafkajs';
import { type BusClient, clientOf } from './client.ts';
import { registerConsumer } from './consumer-health.ts';

export interface LeadershipOptions {
  log: Logger;
  /** The candidates' group; one per deployment. */
  groupId: string;
  /** A topic of one partition every candidate may read (nothing is consumed from it). */
  topic: string;
  /** How long the group waits for a silent leader before electing another (default 10 s). */
  sessionTimeoutMs?: number;
  /** This instance leads from now on. Transitions never overlap: the previous one has returned. */
  onElected: () => void | Promise<void>;
  /** This instance no longer leads (or may not: it lost contact with the group). */
  onDeposed: (reason: string) => void | Promise<void>;
}

export interface Leadership {
  isLeader(): boolean;
  /**
   * Whether this instance still leads, asked of the group: waits for the next heartbeat (or
   * re-join), at most a session timeout; false without an answer.
   */
  confirm(): Promise<boolean>;
  /** Leaves the group: another candidate is elected at once. */
  stop(): Promise<void>;
}

const LEADS = Buffer.from('leads');

/**
 * Partition 0 stays with the member that leads now (it says so in its join metadata), so an
 * instance joining or leaving the group never moves the leadership; with no leader, the first
 * member by id. (kafkajs's round robin would hand it to whichever member sorts first.)
 */
export function stickyLeaderAssigner(topic: string, leading: () => boolean): () => Assigner {
  return () => ({
    name: 'LiStickyLeader',
    version: 1,
    async assign({ members }) {
      const claims = members.map((m) => ({
        memberId: m.memberId,
        leads: AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData.equals(LEADS) ?? false,
      }));
      const sorted = [...claims].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
      const leader = (sorted.find((c) => c.leads) ?? sorted[0])?.memberId;
      return members.map((m) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: m.memberId === leader ? { [topic]: [0] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'LiStickyLeader',
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: leading() ? LEADS : Buffer.alloc(0),
        }),
      };
    },
  });
}

export async function electLeader(client: BusClient, options: LeadershipOptions): Promise<Leadership> {
  const kafka = clientOf(client);
  const log = options.log.child({ component: 'leadership' });
  const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
  const heartbeatInterval = Math.max(500, Math.floor(sessionTimeout / 6));
  let leading = false;
  const consumer = kafka.consumer({
    groupId: options.groupId,
    partitionAssigners: [stickyLeaderAssigner(options.topic, () => leading)],
    sessionTimeout,
    rebalanceTimeout: sessionTimeout,
    heartbeatInterval,
    maxWaitTimeInMs: heartbeatInterval,
  });
  let stopped = false;
  let lastContact = Date.now();
  let joined = false;
  const waiters = new Set<() => void>();
  let transitions: Promise<void> = Promise.resolve();

  let decided = false;
  const become = (lead: boolean, reason: string) => {
    // The first answer is always told (a standby learns that it stands by), later ones on change.
    if (lead === leading && decided) return;
    decided = true;
    leading = lead;
    log.info({ reason }, lead ? 'elected: this instance leads' : 'deposed: this instance stands by');
    transitions = transitions.then(async () => {
      try {
        await (lead ? options.onElected() : options.onDeposed(reason));
      } catch (err) {
        log.error({ err }, 'leadership transition failed');
      }
    });
  };
  const contact = () => {
    lastContact = Date.now();
    for (const w of waiters) w();
    waiters.clear();
  };

  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    joined = true;
    const partitions = payload.memberAssignment[options.topic] ?? [];
    become(partitions.includes(0), partitions.includes(0) ? 'assigned the leader partition' : 'another member leads');
    contact();
  });
  consumer.on(consumer.events.HEARTBEAT, contact);
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    joined = false;
    become(false, `leadership consumer crashed: ${payload.error.name}`);
  });
  // Without a heartbeat for a session timeout the group has given the partition away already.
  const lease = setInterval(() => {
    if (leading && Date.now() - lastContact > sessionTimeout)
      become(false, `no contact with the group for ${Math.round((Date.now() - lastContact) / 1000)} s`);
  }, heartbeatInterval);
  const unregister = registerConsumer(kafka, {
    name: `leadership ${options.groupId}`,
    health: () => (joined ? { live: true, ready: true } : { live: true, ready: false, reason: 'joining' }),
  });

  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: false });
  await consumer.run({ autoCommit: false, eachBatch: async () => {} });

  return {
    isLeader: () => leading,
    confirm() {
      if (stopped) return Promise.resolve(false);
      const asked = Date.now();
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(done);
          resolve(false);
        }, sessionTimeout);
        const done = () => {
          clearTimeout(timer);
          resolve(leading && lastContact >= asked);
        };
        waiters.add(done);
      });
    },
    async stop() {
      stopped = true;
      clearInterval(lease);
      unregister();
      await consumer.disconnect().catch(() => {});
      become(false, 'stopped');
      await transitions;
    },
  };
}
