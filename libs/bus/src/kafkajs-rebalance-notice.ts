// kafkajs 2.2.4 learns of a rebalance when a heartbeat fails with REBALANCE_IN_PROGRESS
// (node_modules/kafkajs/src/consumer/runner.js `heartbeat`, called after each batch, on an empty
// fetch and from eachBatch), and also from other errors (a commit refused with ILLEGAL_GENERATION
// or REBALANCE_IN_PROGRESS, UNKNOWN_MEMBER_ID after the session expired, a stale assignment);
// every path rejoins through consumerGroup.joinAndSync. With autoCommit off nothing is committed
// in between. Its groups rebalance eagerly: no member gets the new assignment before every member
// rejoined (or the rebalance timeout passed), and until it rejoins a member may still commit
// under its generation (the broker refuses commits only once the group completes the rebalance).
// This wraps both: on REBALANCE_IN_PROGRESS from a heartbeat, and before any rejoin, it first
// awaits the hook registered for the member (a confirmed consumer handing its partitions over:
// open files closed and numbered, confirmations committed); the hook runs once per assignment.
import { createRequire } from 'node:module';

interface KafkaConsumerGroup {
  memberId: string | null;
  joinAndSync(): Promise<unknown>;
}

interface KafkaRunner {
  consumerGroup: { memberId: string | null };
  heartbeat(): Promise<void>;
}

const hooks = new Map<string, () => Promise<void>>();

/** Runs `hook` (it must bound itself) before the member `memberId` rejoins a rebalancing group; null removes it. */
export function onRebalanceNotice(memberId: string, hook: (() => Promise<void>) | null): void {
  if (hook) hooks.set(memberId, hook);
  else hooks.delete(memberId);
}

const PATCHED = Symbol.for('li.bus.kafkajs-rebalance-notice');
/** kafkajs's consumer Runner class, with its heartbeat wrapped (once per process). */
export const KafkaRunner = createRequire(import.meta.url)('kafkajs/src/consumer/runner.js') as {
  prototype: KafkaRunner & { [PATCHED]?: true };
};
const Runner = KafkaRunner;
if (!Runner.prototype[PATCHED]) {
  const heartbeat = Runner.prototype.heartbeat;
  Runner.prototype.heartbeat = async function (this: KafkaRunner): Promise<void> {
    try {
      await heartbeat.call(this);
    } catch (e) {
      const memberId = this.consumerGroup.memberId;
      const hook =
        (e as { type?: string }).type === 'REBALANCE_IN_PROGRESS' && memberId ? hooks.get(memberId) : undefined;
      if (hook) await hook().catch(() => undefined);
      throw e;
    }
  };
  Runner.prototype[PATCHED] = true;
}

/** The member id of a group's last join: kafkajs clears memberId before rejoining after UNKNOWN_MEMBER_ID. */
const LAST_MEMBER = Symbol.for('li.bus.kafkajs-last-member');
/** kafkajs's ConsumerGroup class, with its joinAndSync wrapped (once per process). */
export const KafkaConsumerGroup = createRequire(import.meta.url)('kafkajs/src/consumer/consumerGroup.js') as {
  prototype: KafkaConsumerGroup & { [PATCHED]?: true; [LAST_MEMBER]?: string | null };
};
if (!KafkaConsumerGroup.prototype[PATCHED]) {
  const joinAndSync = KafkaConsumerGroup.prototype.joinAndSync;
  KafkaConsumerGroup.prototype.joinAndSync = async function (
    this: KafkaConsumerGroup & { [LAST_MEMBER]?: string | null },
  ): Promise<unknown> {
    // The first join has no member yet; a rejoin hands over first, whatever announced it.
    const member = this.memberId ?? this[LAST_MEMBER];
    const hook = member ? hooks.get(member) : undefined;
    if (hook) await hook().catch(() => undefined);
    const joined = await joinAndSync.call(this);
    this[LAST_MEMBER] = this.memberId;
    return joined;
  };
  KafkaConsumerGroup.prototype[PATCHED] = true;
}
