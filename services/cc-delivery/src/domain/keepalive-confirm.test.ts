import { ManualClock } from '@li/core';
import { describe, expect, it } from 'vitest';
import { KeepaliveTimer } from './keepalive.ts';
import { ConfirmTrigger } from './keepalive-confirm.ts';
import { ResendWindow } from './resend-window.ts';

/** A keep-alive timer, a confirm trigger and a never-dropping window wired as pdu-connection.ts does. */
function setup(windowBytes = 100, everyRecords?: number) {
  const clock = new ManualClock(1000);
  const window = new ResendWindow<{ id: number; bytes: Uint8Array }>(windowBytes, false);
  const marks = new Map<number, number>();
  const sent: number[] = [];
  const confirmed: number[] = [];
  let trigger: ConfirmTrigger | null = null;
  const k = new KeepaliveTimer({
    intervalMs: 30_000,
    timeoutMs: 5000,
    clock,
    send: (seq) => {
      marks.set(seq, window.position());
      sent.push(seq);
      trigger?.keepaliveSent();
    },
    onTimeout: () => {},
    onRtt: (_ms, seq) => {
      for (const r of window.confirm(marks.get(seq) ?? 0)) confirmed.push(r.id);
    },
  });
  trigger = new ConfirmTrigger({
    idleMs: 200,
    everyBytes: windowBytes / 2,
    ...(everyRecords ? { everyRecords } : {}),
    clock,
    fire: () => k.sendNow(),
  });
  k.start();
  const write = (id: number, size = 10) => {
    window.remember({ id, bytes: new Uint8Array(size) });
    trigger!.wrote(size);
  };
  return { clock, window, sent, confirmed, k, trigger, write };
}

describe('ConfirmTrigger with KeepaliveTimer and a never-dropping ResendWindow', () => {
  it('confirms nothing on the write: only the answer to a keep-alive sent after the records', () => {
    const { clock, sent, confirmed, k, write } = setup();
    write(0);
    write(1);
    clock.advance(199);
    expect(sent).toEqual([]); // still within the idle time
    expect(confirmed).toEqual([]);
    clock.advance(1);
    expect(sent).toEqual([0]); // idle 200 ms: a confirming keep-alive, not the 30 s one
    write(2); // after the keep-alive: its answer must not cover this one
    expect(confirmed).toEqual([]);
    k.onResponse(0);
    expect(confirmed).toEqual([0, 1]);
    clock.advance(200);
    expect(sent).toEqual([0, 1]);
    k.onResponse(1);
    expect(confirmed).toEqual([0, 1, 2]);
  });

  it('each write restarts the idle wait; nothing written, no extra keep-alive', () => {
    const { clock, sent, write } = setup(10_000);
    for (let i = 0; i < 10; i++) {
      write(i);
      clock.advance(150);
    }
    expect(sent).toEqual([]);
    clock.advance(50);
    expect(sent).toEqual([0]);
    clock.advance(5000);
    expect(sent).toEqual([0]); // nothing uncovered: no keep-alive until the period
  });

  it('while small records flow, a keep-alive goes out every `everyRecords` records, long before half the window', () => {
    // the LEMF's consumer stops reading at its high water of unconfirmed records; without this the
    // writes would stop there and the records wait out the idle time for their keep-alive
    const { clock, sent, confirmed, k, write } = setup(10_000, 4);
    for (let i = 0; i < 3; i++) {
      write(i);
      clock.advance(50);
    }
    expect(sent).toEqual([]);
    write(3); // 40 bytes of a 5 000-byte half window, but the fourth record
    expect(sent).toEqual([0]);
    k.onResponse(0);
    expect(confirmed).toEqual([0, 1, 2, 3]);
    for (let i = 4; i < 8; i++) {
      write(i);
      clock.advance(50); // never idle for 200 ms
    }
    expect(sent).toEqual([0, 1]); // counted anew from the last keep-alive
    k.onResponse(1);
    expect(confirmed).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('while data flows, a keep-alive goes out every half window, so answers free it before it fills', () => {
    const { sent, window, confirmed, k, write } = setup(100);
    for (let i = 0; i < 5; i++) write(i); // 50 bytes: half the window
    expect(sent).toEqual([0]);
    for (let i = 5; i < 10; i++) write(i);
    expect(sent).toEqual([0, 1]);
    expect(window.full).toBe(true); // 100 bytes held: the writer waits (back-pressure), nothing dropped
    expect(window.size).toBe(10);
    k.onResponse(0);
    expect(confirmed).toEqual([0, 1, 2, 3, 4]);
    expect(window.full).toBe(false);
  });

  it('flush sends a keep-alive only when something written is not covered yet', () => {
    const { sent, trigger, write } = setup();
    trigger.flush();
    expect(sent).toEqual([]);
    write(0);
    trigger.flush();
    expect(sent).toEqual([0]);
    trigger.flush();
    expect(sent).toEqual([0]);
    expect(trigger.uncovered()).toBe(0);
  });

  it('the periodic keep-alive covers what was written before it too; stop cancels the idle wait', () => {
    const { clock, sent, confirmed, k, trigger, write } = setup(10_000);
    clock.advance(29_900);
    write(0);
    clock.advance(100); // the 30 s keep-alive goes out first
    expect(sent).toEqual([0]);
    clock.advance(500);
    expect(sent).toEqual([0]); // covered: no confirming one
    k.onResponse(0);
    expect(confirmed).toEqual([0]);
    write(1);
    trigger.stop();
    clock.advance(1000);
    expect(sent).toEqual([0]);
  });
});
