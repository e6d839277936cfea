import { describe, expect, it } from 'vitest';
import { TunnelGatedTransport } from './tunnel-gate.ts';
import { type DeliveryTransport, initialTransportStatus, type OutboundBatch } from './types.ts';

class Recording implements DeliveryTransport {
  readonly kind = 'ETSI_TCP';
  started = 0;
  sent = 0;
  closed = false;
  start() {
    this.started++;
  }
  async send(b: OutboundBatch) {
    this.sent += b.records.length;
    return { confirmed: b.records.length, error: null };
  }
  status() {
    return { ...initialTransportStatus(), connected: true };
  }
  async close() {
    this.closed = true;
  }
}

const batch: OutboundBatch = { records: [{} as never, {} as never], file: null };

describe('tunnel gate', () => {
  it('neither connects nor sends while the tunnel is down; goes on once it is up; stops again when it drops', async () => {
    let up = false;
    const inner = new Recording();
    const g = new TunnelGatedTransport(inner, { ready: () => up, now: () => 1000, recheckMs: 5 });
    g.start();
    await new Promise((r) => setTimeout(r, 20));
    expect(inner.started).toBe(0);
    const refused = await g.send(batch);
    expect(refused).toMatchObject({ confirmed: 0, error: { code: 'DLV_ERR_IPSEC_DOWN', retriable: true } });
    expect(inner.sent).toBe(0);
    expect(g.status()).toMatchObject({
      connected: false,
      lastError: { code: 'DLV_ERR_IPSEC_DOWN' },
      lastErrorAt: 1000,
    });
    up = true;
    await new Promise((r) => setTimeout(r, 20));
    expect(inner.started).toBe(1);
    expect(await g.send(batch)).toEqual({ confirmed: 2, error: null });
    expect(g.status().connected).toBe(true);
    up = false;
    expect((await g.send(batch)).confirmed).toBe(0);
    expect(inner.sent).toBe(2);
    await g.close();
    expect(inner.closed).toBe(true);
  });

  it('a gate closed before its tunnel came up never starts the transport', async () => {
    let up = false;
    const inner = new Recording();
    const g = new TunnelGatedTransport(inner, { ready: () => up, now: () => 0, recheckMs: 5 });
    g.start();
    await g.close();
    up = true;
    await new Promise((r) => setTimeout(r, 20));
    expect(inner.started).toBe(0);
  });
});
