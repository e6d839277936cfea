import type { MatchedEvent, NormalizedEvent } from '@li/schemas';
import { describe, expect, it } from 'vitest';
import { TapBook } from './taps.ts';

function sip(action: string, attributes: Record<string, string>, callId = 'c1'): NormalizedEvent {
  return {
    eventId: `e-${Math.random()}`,
    tenant: 't1',
    category: 'SIGNALS',
    action,
    occurredAtMicros: 1,
    source: 'pcap',
    protocol: 'SIP',
    communicationId: callId,
    parties: [{ role: 'CALLEE', type: 'E164', value: '+390612345678' }],
    network: null,
    attributes,
    content: null,
    contentType: null,
  };
}

function matched(liid: string, deliver: 'IRI_ONLY' | 'IRI_AND_CC' = 'IRI_AND_CC'): MatchedEvent {
  return { liid, deliver } as MatchedEvent;
}

const INVITE = sip('sip.invite', { method: 'INVITE' });

describe('TapBook', () => {
  it('taps a call once when its INVITE matches a warrant with content, not for IRI-only warrants', () => {
    const book = new TapBook({ ttlMicros: 1000 });
    expect(book.changes('t1', INVITE, [matched('L1', 'IRI_ONLY')], 0)).toEqual([]);
    const c = book.changes('t1', INVITE, [matched('L1')], 10);
    expect(c).toEqual([
      {
        tenant: 't1',
        key: 'c1',
        value: { tenant: 't1', communicationId: 'c1', liids: ['L1'], tappedAtMicros: 10, expiresAtMicros: 1010 },
      },
    ]);
    // Not committed (batch aborted): the retry writes it again.
    expect(book.changes('t1', INVITE, [matched('L1')], 20)).toHaveLength(1);
    book.commit(c);
    // Committed: a provisional answer and the ACK add nothing; a second warrant rewrites it with both LIIDs.
    expect(book.changes('t1', sip('sip.response', { method: 'INVITE', status: '180' }), [matched('L1')], 30)).toEqual(
      [],
    );
    expect(book.changes('t1', sip('sip.ack', { method: 'ACK' }), [matched('L2')], 40)[0]?.value?.liids).toEqual([
      'L1',
      'L2',
    ]);
    // Refreshed once half its life passed.
    expect(book.changes('t1', sip('sip.update', { method: 'UPDATE' }), [matched('L1')], 600)).toHaveLength(1);
  });

  it('withdraws the tap at BYE or CANCEL, also when the INVITE is in the same batch', () => {
    const book = new TapBook();
    const first = book.changes('t1', INVITE, [matched('L1')], 0);
    const bye = book.changes('t1', sip('sip.bye', { method: 'BYE' }), [matched('L1')], 1, first);
    expect(bye).toEqual([{ tenant: 't1', key: 'c1', value: null }]);
    book.commit([...first, ...bye]);
    expect(book.size()).toBe(0);
    // A BYE of a call never tapped writes nothing; nor do REGISTER or MESSAGE.
    expect(book.changes('t1', sip('sip.bye', { method: 'BYE' }, 'c9'), [matched('L1')], 2)).toEqual([]);
    expect(book.changes('t1', sip('sip.message', { method: 'MESSAGE' }), [matched('L1')], 2)).toEqual([]);
  });

  it('withdraws a failed call and untaps calls when their warrant ends', () => {
    const book = new TapBook();
    book.commit(book.changes('t1', INVITE, [matched('L1'), matched('L2')], 0));
    book.commit(book.changes('t1', sip('sip.invite', { method: 'INVITE' }, 'c2'), [matched('L1')], 0));
    const ended = book.warrantEnded('t1', 'L1', 5);
    expect(ended.map((c) => [c.key, c.value?.liids ?? null])).toEqual([
      ['c1', ['L2']],
      ['c2', null],
    ]);
    book.commit(ended);
    expect(book.warrantEnded('t2', 'L2', 6)).toEqual([]);
    // c1 (tapped by L2) is answered, so a 486 later is a failed re-INVITE: the tap stays.
    const ok = book.changes('t1', sip('sip.response', { method: 'INVITE', status: '200' }), [matched('L2')], 7);
    expect(ok.map((c) => c.answered)).toEqual([true]);
    book.commit(ok);
    expect(book.changes('t1', sip('sip.response', { method: 'INVITE', status: '486' }), [matched('L2')], 8)).toEqual(
      [],
    );
    // An unanswered call that fails (busy) is untapped.
    book.commit(book.changes('t1', sip('sip.invite', { method: 'INVITE' }, 'c3'), [matched('L2')], 9));
    const busy = book.changes('t1', sip('sip.response', { method: 'INVITE', status: '486' }, 'c3'), [], 10);
    expect(busy).toEqual([{ tenant: 't1', key: 'c3', value: null }]);
  });
});
