import { afterEach, describe, expect, it, vi } from 'vitest';
import { KafkaRequestQueue } from './kafkajs-request-queue.ts';

const logger = { debug() {}, info() {}, warn() {}, error() {} };

describe("kafkajs's request queue", () => {
  afterEach(() => vi.useRealTimers());

  it('schedules no check (before: a negative timeout every 1 ms) when nothing is pending or throttled', () => {
    const queue = new KafkaRequestQueue({ logger, maxInFlightRequests: null, requestTimeout: 30_000 });
    queue.checkPendingRequests();
    expect(queue.throttleCheckTimeoutId).toBeNull();
  });

  it('still checks a pending request once the throttle ends', () => {
    vi.useFakeTimers();
    const queue = new KafkaRequestQueue({ logger, maxInFlightRequests: null, requestTimeout: 30_000 });
    const check = vi.spyOn(queue, 'checkPendingRequests').mockImplementation(() => {});
    queue.throttledUntil = Date.now() + 50;
    queue.pending.push({});
    queue.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(49);
    expect(check).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(check).toHaveBeenCalledOnce();
  });

  it('re-checks a pending request soon when the throttle has just ended', () => {
    vi.useFakeTimers();
    const queue = new KafkaRequestQueue({ logger, maxInFlightRequests: null, requestTimeout: 30_000 });
    const check = vi.spyOn(queue, 'checkPendingRequests').mockImplementation(() => {});
    queue.pending.push({});
    queue.scheduleCheckPendingRequests();
    vi.advanceTimersByTime(10);
    expect(check).toHaveBeenCalledOnce();
  });
});
