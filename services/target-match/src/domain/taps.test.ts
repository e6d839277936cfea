import type { MatchedEvent, NormalizedEvent, Party, Warrant } from '@li/schemas';
import { sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { TapBook } from './taps.ts';
import { WarrantIndex } from './warrant-index.ts';

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
        // Kept in memory with the tap, for a warrant's later versions.
        call: { tenant: 't1', protocol: 'SIP', communicationId: 'c1', parties: INVITE.parties, network: null },
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

  it('forgets the oldest tap beyond maxTaps (its BYE then withdraws nothing), and knows calls per tenant', () => {
    const book = new TapBook({ ttlMicros: 1000, maxTaps: 2 });
    const invite = (tenant: string, callId: string) =>
      book.changes(tenant, { ...sip('sip.invite', { method: 'INVITE' }, callId), tenant }, [matched('L1')], 10);
    for (const [tenant, callId] of [
      ['t1', 'c1'],
      ['t1', 'c2'],
      ['t2', 'c2'],
    ]) {
      book.commit(invite(tenant!, callId!));
    }
    expect(book.size()).toBe(2);
    const bye = (tenant: string, callId: string) =>
      book.changes(tenant, { ...sip('sip.bye', { method: 'BYE' }, callId), tenant }, [], 20);
    expect(bye('t1', 'c1')).toEqual([]);
    expect(bye('t1', 'c2')).toEqual([{ tenant: 't1', key: 'c2', value: null }]);
    expect(bye('t2', 'c2')).toEqual([{ tenant: 't2', key: 'c2', value: null }]);
    expect(bye('t2', 'c1')).toEqual([]);
    // A tombstone committed: the call is no longer known, and the book has room again.
    book.commit(bye('t1', 'c2'));
    expect([book.size(), bye('t1', 'c2')]).toEqual([1, []]);
    book.commit(invite('t1', 'c3'));
    expect(bye('t2', 'c2')).toHaveLength(1);
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

  it("untaps a call at once when the warrant's new version no longer matches its parties or takes no content", () => {
    const NOW = 1_797_000_000_000_000;
    const A = '+390612345678';
    const B = '+390698765432';
    const idx = new WarrantIndex();
    const warrant = (liid: string, value: string, o: Partial<Warrant> = {}): Warrant =>
      sampleWarrant({
        tenant: 't1',
        liid,
        authorisationCountry: 'IT',
        state: 'ACTIVE',
        deliver: 'IRI_AND_CC',
        targets: [{ id: `${liid}-t`, type: 'E164', value }],
        selection: { ...sampleWarrant().selection, signals: true, media: true },
        validFromMicros: NOW - 1_000_000,
        validUntilMicros: NOW + 86_400_000_000,
        ...o,
      });
    const apply = (w: Warrant) => {
      expect(idx.upsert(w)).toMatchObject({ applied: true });
      return book.warrantChanged('t1', idx.get('t1', `IT:${w.liid}`)!, (e) => idx.match(e, NOW), NOW);
    };
    const call = (callId: string, parties: Party[]) => {
      const e = { ...sip('sip.invite', { method: 'INVITE' }, callId), parties, occurredAtMicros: NOW };
      const c = book.changes('t1', e, idx.match(e, NOW), NOW);
      book.commit(c);
      return c.map((x) => x.value?.liids);
    };
    const book = new TapBook();
    idx.upsert(warrant('L1', A));
    idx.upsert(warrant('L2', B));
    // c1: B calls A (both warrants); c2: someone calls A (L1 only).
    expect(
      call('c1', [
        { role: 'CALLER', type: 'E164', value: B },
        { role: 'CALLEE', type: 'E164', value: A },
      ]),
    ).toEqual([['L1', 'L2']]);
    expect(
      call('c2', [
        { role: 'CALLER', type: 'E164', value: '+390600000000' },
        { role: 'CALLEE', type: 'E164', value: A },
      ]),
    ).toEqual([['L1']]);
    // A new version with the same targets (extended) leaves the taps alone.
    expect(apply(warrant('L1', A, { version: 2, validUntilMicros: NOW + 2 * 86_400_000_000 }))).toEqual([]);
    // L1's target becomes another number, the warrant still active: c1 keeps L2, c2 is untapped now.
    const moved = apply(warrant('L1', '+390611111111', { version: 3 }));
    expect(moved.map((c) => [c.key, c.value?.liids ?? null])).toEqual([
      ['c1', ['L2']],
      ['c2', null],
    ]);
    book.commit(moved);
    // L2 stops selecting media (signals only): the content goes, c1 is untapped.
    const noMedia = apply(
      warrant('L2', B, { version: 2, selection: { ...sampleWarrant().selection, signals: true, media: false } }),
    );
    expect(noMedia).toEqual([{ tenant: 't1', key: 'c1', value: null }]);
    book.commit(noMedia);
    expect(book.size()).toBe(0);
    // IRI only: the same.
    expect(call('c3', [{ role: 'CALLEE', type: 'E164', value: '+390611111111' }])).toEqual([['L1']]);
    expect(apply(warrant('L1', '+390611111111', { version: 4, deliver: 'IRI_ONLY' }))).toEqual([
      { tenant: 't1', key: 'c3', value: null },
    ]);
  });
});
