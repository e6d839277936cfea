import { describe, expect, it } from 'vitest';
import { KafkaRunner, onRebalanceNotice } from './kafkajs-rebalance-notice.ts';

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
