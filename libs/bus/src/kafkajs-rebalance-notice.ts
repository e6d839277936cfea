// kafkajs 2.2.4 learns of a rebalance when a heartbeat fails with REBALANCE_IN_PROGRESS
// (node_modules/kafkajs/src/consumer/runner.js `heartbeat`, called after each batch, on an empty
// fetch and from eachBatch) and rejoins at once (runner.js `scheduleFetchManager` →
// consumerGroup.joinAndSync); with autoCommit off nothing is committed in between. Its groups
// rebalance eagerly: no member gets the new assignment before every member rejoined (or the
// rebalance timeout passed), and until it rejoins a member may still commit under its generation
// (the broker refuses commits only once the group completes the rebalance). This wraps that one
// method: on REBALANCE_IN_PROGRESS it first awaits the hook registered for the member (a
// confirmed consumer committing what its peer confirmed), then fails as before.
import { createRequire } from 'node:module';

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
