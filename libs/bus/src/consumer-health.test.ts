import { EventEmitter } from 'node:events';
import type { Consumer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { watchActivity } from './consumer-health.ts';

describe('watchActivity', () => {
  it('reports a consumer that neither fetched nor heartbeated for 30 s, and clears on the next fetch', () => {
    const events = { FETCH_START: 'fetch_start', HEARTBEAT: 'heartbeat', GROUP_JOIN: 'group_join' };
    const consumer = Object.assign(new EventEmitter(), { events }) as unknown as Consumer & EventEmitter;
    let t = 0;
    const stalled = watchActivity(consumer, () => t);
    t = 29_000;
    expect(stalled()).toBeUndefined();
    (consumer as EventEmitter).emit('heartbeat');
    t = 58_000;
    expect(stalled()).toBeUndefined();
    t = 61_000;
    expect(stalled()).toBe('no fetch or heartbeat for 32 s');
    (consumer as EventEmitter).emit('fetch_start');
    expect(stalled()).toBeUndefined();
  });
});
