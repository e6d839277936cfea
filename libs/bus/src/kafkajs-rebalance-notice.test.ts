import { describe, expect, it } from 'vitest';
import { KafkaConsumerGroup, KafkaRunner, onRebalanceNotice } from './kafkajs-rebalance-notice.ts';

// A runner as kafkajs's heartbeat sees it: its group's heartbeat fails with `type`.
const runner = (memberId: string, type: string) =>
  Object.assign(Object.create(KafkaRunner.prototype), {
    heartbeatInterval: 0,
    autoCommit: false,
    consumerGroup: {
      memberId,
      heartbeat: async () => {
        throw Object.assign(new Error(type), { type });
      },
    },
  }) as { heartbeat(): Promise<void> };

describe("kafkajs's runner heartbeat", () => {
  it('awaits the member hook before failing with REBALANCE_IN_PROGRESS (kafkajs then rejoins)', async () => {
    const order: string[] = [];
    onRebalanceNotice('m1', async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('hook');
    });
    await runner('m1', 'REBALANCE_IN_PROGRESS')
      .heartbeat()
      .catch((e: { type: string }) => order.push(e.type));
    expect(order).toEqual(['hook', 'REBALANCE_IN_PROGRESS']);
    onRebalanceNotice('m1', null);
  });

  it('runs no hook for another member, another error, or a removed hook', async () => {
    let calls = 0;
    onRebalanceNotice('m2', async () => {
      calls++;
    });
    await expect(runner('m3', 'REBALANCE_IN_PROGRESS').heartbeat()).rejects.toThrow();
    await expect(runner('m2', 'ILLEGAL_GENERATION').heartbeat()).rejects.toThrow();
    onRebalanceNotice('m2', null);
    await expect(runner('m2', 'REBALANCE_IN_PROGRESS').heartbeat()).rejects.toThrow();
    expect(calls).toBe(0);
  });
});

// A consumer group as kafkajs's runner rejoins it: the join itself replaced by `joined`.
const group = (memberId: string | null, joined: () => void) =>
  Object.assign(Object.create(KafkaConsumerGroup.prototype), {
    memberId,
    retrier: async () => joined(),
  }) as { memberId: string | null; joinAndSync(): Promise<unknown> };

describe("kafkajs's consumer group rejoin", () => {
  it('awaits the member hook before any rejoin, also one no heartbeat announced', async () => {
    const order: string[] = [];
    onRebalanceNotice('m4', async () => {
      await new Promise((r) => setTimeout(r, 20));
      order.push('hook');
    });
    await group('m4', () => order.push('join')).joinAndSync();
    expect(order).toEqual(['hook', 'join']);
    onRebalanceNotice('m4', null);
  });

  it('finds the member of the last join after kafkajs cleared it (UNKNOWN_MEMBER_ID); none on the first join', async () => {
    const order: string[] = [];
    onRebalanceNotice('m5', async () => {
      order.push('hook');
    });
    const g = group(null, () => order.push('join'));
    await g.joinAndSync(); // the first join: no member, no hook
    g.memberId = 'm5'; // what the broker gave it
    await g.joinAndSync();
    g.memberId = null; // UNKNOWN_MEMBER_ID: kafkajs clears it, then rejoins
    await g.joinAndSync();
    expect(order).toEqual(['join', 'hook', 'join', 'hook', 'join']);
    onRebalanceNotice('m5', null);
  });
});
