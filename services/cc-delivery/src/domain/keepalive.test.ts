import { ManualClock } from '@li/core';
import { describe, expect, it } from 'vitest';
import { KeepaliveTimer } from './keepalive.ts';

function setup() {
  const clock = new ManualClock(1000);
  const sent: number[] = [];
  const timeouts: number[] = [];
  const rtts: number[] = [];
  const k = new KeepaliveTimer({
    intervalMs: 10_000,
    timeoutMs: 3000,
    clock,
    send: (s) => sent.push(s),
    onTimeout: (s) => timeouts.push(s),
    onRtt: (ms) => rtts.push(ms),
  });
  return { clock, sent, timeouts, rtts, k };
}

describe('KeepaliveTimer', () => {
  it('sends on its own schedule and measures the round trip by sequence number', () => {
    const { clock, sent, rtts, timeouts, k } = setup();
    k.start();
    clock.advance(10_000);
    expect(sent).toEqual([0]);
    clock.advance(250);
    expect(k.onResponse(0)).toBe(250);
    clock.advance(10_000);
    expect(sent).toEqual([0, 1]);
    expect(rtts).toEqual([250]);
    expect(timeouts).toEqual([]);
  });

  it('times out a missing response even while later keep-alives keep going out', () => {
    const { clock, sent, timeouts, k } = setup();
    k.start();
    clock.advance(10_000);
    clock.advance(2999);
    expect(timeouts).toEqual([]);
    clock.advance(1);
    expect(timeouts).toEqual([0]);
    clock.advance(7000);
    expect(sent).toEqual([0, 1]);
    k.onResponse(); // unnumbered response answers the oldest outstanding one
    expect(k.outstanding()).toBe(0);
    k.stop();
    clock.advance(100_000);
    expect(sent).toEqual([0, 1]);
  });

  it('restarts the response wait while the LEMF drains data queued before the keep-alive', () => {
    const { clock, timeouts, k } = setup();
    k.start();
    clock.advance(10_000);
    clock.advance(2000);
    k.onProgress();
    clock.advance(2000);
    k.onProgress();
    clock.advance(2999);
    expect(timeouts).toEqual([]);
    clock.advance(1);
    expect(timeouts).toEqual([0]);
  });

  it('sends a keep-alive every period, also while data flows, and times out an unanswered one', () => {
    // a black-holed path: data keeps being handed to the socket, nothing comes back
    const { clock, sent, timeouts, k } = setup();
    k.start();
    clock.advance(10_000);
    expect(sent).toEqual([0]);
    clock.advance(3000);
    expect(timeouts).toEqual([0]);
  });

  it('reports which keep-alive an answer was for', () => {
    const clock = new ManualClock(0);
    const answered: [number, number][] = [];
    const k = new KeepaliveTimer({
      intervalMs: 1000,
      timeoutMs: 5000,
      clock,
      send: () => undefined,
      onTimeout: () => undefined,
      onRtt: (ms, seq) => answered.push([ms, seq]),
    });
    k.start();
    clock.advance(2000); // keep-alives 0 and 1 out
    clock.advance(100);
    k.onResponse(1);
    k.onResponse(); // the oldest still outstanding: 0
    expect(answered).toEqual([
      [100, 1],
      [1100, 0],
    ]);
    k.stop();
  });
});
