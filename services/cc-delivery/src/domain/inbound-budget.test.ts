import { describe, expect, it } from 'vitest';
import { InboundBudget } from './inbound-budget.ts';

const limits = { maxPduBytes: 1000, burstBytes: 10_000, bytesPerSecond: 1000, perRecordBytes: 100 };

describe('InboundBudget', () => {
  it('allows a burst, then only the steady rate', () => {
    const b = new InboundBudget(limits, 0);
    expect(b.take(10_000, 0)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
    const c = new InboundBudget(limits, 0);
    expect(c.take(10_000, 0)).toBe(true);
    expect(c.take(500, 500)).toBe(true); // 0.5 s refilled 500 bytes
    expect(c.take(600, 1000)).toBe(false); // 0.5 s more refilled 500, not 600
  });

  it('a keep-alive sized trickle never runs out', () => {
    const b = new InboundBudget(limits, 0);
    for (let t = 0; t < 600_000; t += 100) expect(b.take(60, t)).toBe(true);
  });

  it('credits each record sent with room for its acknowledgement, beyond the burst', () => {
    const b = new InboundBudget(limits, 0);
    b.credit(1000); // 100 000 bytes of acks may come back
    expect(b.take(100_000 + 10_000, 0)).toBe(true);
    expect(b.take(1, 0)).toBe(false);
  });
});
