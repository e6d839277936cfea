import type { NormalizedEvent } from '@li/schemas';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../testing/memory-store.ts';
import { invite, register, request, response, TENANT } from '../testing/sip-fixtures.ts';
import type { DomainConfig, Note } from './engine.ts';
import {
  apply,
  DEFAULT_DOMAIN_CONFIG,
  deleteSubscriber,
  setGlobalAdminState,
  setTenantAdminState,
  tick,
  upsertSubscriber,
} from './engine.ts';
import type { McidMode, McidReport, TemporaryStore } from './model.ts';
import { keys } from './model.ts';

const S = 'sip:+15552220000@ims.example.net;user=phone'; // served user
const S_TEL = 'tel:+1-555-222-0000';
const C = 'sip:+15553330000@ims.example.net;user=phone'; // diverted-to party
const A_PAI = ['"Anon" <sip:+15550001111@ims.example.net;user=phone>', '<tel:+15550001111>'];
const SEC = 1_000_000;
const T0 = 1_790_000_000 * SEC;

class Harness {
  state = new MemoryStateStore();
  reports: McidReport[] = [];
  notes: Note[] = [];
  config: DomainConfig = DEFAULT_DOMAIN_CONFIG;

  constructor() {
    this.state.applyChanges(setGlobalAdminState('UNLOCKED', T0));
    this.state.applyChanges(setTenantAdminState(TENANT, 'UNLOCKED', T0));
  }

  provision(mode: McidMode, opts: { identities?: string[]; originating?: boolean; terminating?: boolean } = {}) {
    const r = upsertSubscriber(
      this.state,
      {
        tenant: TENANT,
        identities: opts.identities ?? [S, S_TEL],
        mode,
        terminating: opts.terminating ?? true,
        originating: opts.originating ?? false,
      },
      T0,
    );
    if (!r.ok) throw new Error(r.reason);
    this.state.applyChanges(r.changes);
    return r.subscriber;
  }

  run(...events: NormalizedEvent[]) {
    for (const e of events) {
      const r = apply(this.state, e, this.config);
      this.state.applyChanges(r.changes);
      this.reports.push(...r.reports);
      this.notes.push(...r.notes);
    }
  }

  tick(now: number) {
    const r = tick(this.state, now, this.config);
    this.state.applyChanges(r.changes);
    this.reports.push(...r.reports);
    this.notes.push(...r.notes);
  }

  store(id = 'tel:+15552220000'): TemporaryStore {
    const rec = this.state.get(keys.store(TENANT, id));
    return rec?.type === 'store' ? rec.store : { latest: null, previous: null };
  }
}

const inv = (callId: string, at: number, extra: Partial<Parameters<typeof invite>[0]> = {}) =>
  invite({ callId, at, requestUri: S, pai: A_PAI, ...extra });
const resp = (callId: string, at: number, status: number, toTag = 'b1') => response({ callId, at, status, toTag });
const ssc = (code: string, at: number, callId = `ssc-${at}`) =>
  invite({
    callId,
    at,
    requestUri: `tel:${code};phone-context=ims.example.net`,
    from: `<${S}>;tag=s1`,
    pai: [`<${S}>`],
  });
/** The diverting AS's new INVITE to C, History-Info per RFC 7044 with RFC 4458 cause. */
const divert = (callId: string, at: number, cause: number) =>
  inv(callId, at, {
    requestUri: C,
    to: `<${S}>`,
    historyInfo: [
      `<${S}?Reason=SIP%3Bcause%3D${cause}>;index=1`,
      `<sip:+15553330000@ims.example.net;user=phone;cause=${cause}>;index=1.1`,
    ],
  });

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

describe('permanent mode', () => {
  it('reports every incoming communication with the time the initial INVITE was received', () => {
    h.provision('PERMANENT');
    h.run(inv('c1', T0 + SEC), resp('c1', T0 + 2 * SEC, 180), resp('c1', T0 + 5 * SEC, 200));
    h.run(inv('c2', T0 + 10 * SEC), resp('c2', T0 + 11 * SEC, 486));
    h.run(inv('c3', T0 + 20 * SEC), resp('c3', T0 + 21 * SEC, 183), resp('c3', T0 + 22 * SEC, 200));
    expect(h.reports.map((r) => [r.details.callId, r.mcidTimestampMicros, r.outcome])).toEqual([
      ['c1', T0 + SEC, 'ALERTED'],
      ['c2', T0 + 10 * SEC, 'BUSY'],
      ['c3', T0 + 20 * SEC, 'ANSWERED'],
    ]);
    expect(h.reports.every((r) => r.trigger === 'PERMANENT' && r.mode === 'PERMANENT')).toBe(true);
    expect(h.store().latest).toBeNull(); // permanent mode keeps no temporary store
  });

  it('captures Request-URI, To, PAI, From, Contact, History-Info, Referred-By and Privacy, keeping PAI under Privacy: id', () => {
    h.provision('PERMANENT');
    h.run(
      inv('c1', T0, {
        privacy: 'id',
        referredBy: '<sip:transferor@ims.example.net>',
        historyInfo: ['<sip:old@ims.example.net>;index=1', `<${S};cause=302>;index=1.1`],
      }),
      resp('c1', T0 + SEC, 180),
    );
    const d = h.reports[0]!.details;
    expect(d.requestUri).toBe(S);
    expect(d.to).toBe(`<${S}>`);
    expect(d.pAssertedIdentity).toEqual(A_PAI);
    expect(d.from).toContain('sip:+15550001111@ims.example.net');
    expect(d.contact[0]).toContain('sip:caller@192.0.2.10:5060');
    expect(d.historyInfo).toHaveLength(2);
    expect(d.referredBy).toBe('<sip:transferor@ims.example.net>');
    expect(d.privacy).toBe('id');
    expect(d.icid).toBe('AyretyU0dm+6O2IrT5tAFrbHLso=');
  });

  it('reports originating communications of an originating-permanent subscriber', () => {
    h.provision('PERMANENT', { originating: true, terminating: false });
    h.run(
      invite({ callId: 'o1', at: T0, requestUri: C, from: `<${S}>;tag=x`, pai: [`<${S}>`] }),
      resp('o1', T0 + SEC, 180),
      resp('o1', T0 + 2 * SEC, 200),
    );
    expect(h.reports).toHaveLength(1);
    expect(h.reports[0]!.role).toBe('ORIGINATING');
    expect(h.reports[0]!.mcidTimestampMicros).toBe(T0);
  });

  it('replaying the same events makes no second report', () => {
    h.provision('PERMANENT');
    const evs = [inv('c1', T0), resp('c1', T0 + SEC, 180)];
    h.run(...evs);
    h.run(...evs);
    expect(h.reports).toHaveLength(1);
  });
});

describe('temporary mode', () => {
  it('stores at the first 180 Ringing with the current UTC time and reports nothing by itself', () => {
    h.provision('TEMPORARY');
    h.run(inv('c1', T0), resp('c1', T0 + 2 * SEC, 180), resp('c1', T0 + 3 * SEC, 180), resp('c1', T0 + 9 * SEC, 200));
    expect(h.store().latest?.details.callId).toBe('c1');
    expect(h.store().latest?.storedAtMicros).toBe(T0 + 2 * SEC);
    expect(h.reports).toHaveLength(0);
  });

  it('stores at the 200 OK when no 180 Ringing came', () => {
    h.provision('TEMPORARY');
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 183), resp('c1', T0 + 4 * SEC, 200));
    expect(h.store().latest?.storedAtMicros).toBe(T0 + 4 * SEC);
  });

  it('keeps the latest and the previous communication only', () => {
    h.provision('TEMPORARY');
    for (const [i, id] of ['c1', 'c2', 'c3'].entries())
      h.run(inv(id, T0 + i * 10 * SEC), resp(id, T0 + i * 10 * SEC + SEC, 180));
    expect(h.store().latest?.details.callId).toBe('c3');
    expect(h.store().previous?.details.callId).toBe('c2');
  });

  it('the latest-store SSC registers the latest communication and reports it', () => {
    h.provision('TEMPORARY');
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180), inv('c2', T0 + 10 * SEC), resp('c2', T0 + 11 * SEC, 180));
    h.run(ssc('*57', T0 + 60 * SEC));
    expect(h.reports).toHaveLength(1);
    expect(h.reports[0]!.trigger).toBe('SSC_LATEST');
    expect(h.reports[0]!.details.callId).toBe('c2');
    expect(h.reports[0]!.mcidTimestampMicros).toBe(T0 + 11 * SEC);
    expect(h.reports[0]!.invokedAtMicros).toBe(T0 + 60 * SEC);
    expect(h.notes).toContainEqual({ kind: 'ssc', result: 'registered' });
  });

  it('the previous-store SSC registers the previous communication', () => {
    h.provision('TEMPORARY');
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180), inv('c2', T0 + 10 * SEC), resp('c2', T0 + 11 * SEC, 180));
    h.run(ssc('*57*2', T0 + 60 * SEC));
    expect(h.reports.map((r) => [r.trigger, r.details.callId])).toEqual([['SSC_PREVIOUS', 'c1']]);
  });

  it('SSC codes are configurable and a sip: dial string works too', () => {
    h.config = { ...DEFAULT_DOMAIN_CONFIG, ssc: { latest: ['*39'], previous: ['*39#'] } };
    h.provision('TEMPORARY');
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180));
    h.run(ssc('*57', T0 + 5 * SEC)); // no longer a code: an ordinary outgoing call
    expect(h.reports).toHaveLength(0);
    const dial = (uri: string, at: number) =>
      invite({ callId: `ssc-${at}`, at, requestUri: uri, pai: [`<${S_TEL.replace(/-/g, '')}>`] });
    h.run(dial('sip:%2A39%23@ims.example.net;user=dialstring', T0 + 6 * SEC)); // previous: empty
    expect(h.notes).toContainEqual({ kind: 'ssc', result: 'rejected', reason: 'no stored communication' });
    h.run(dial('sip:*39@ims.example.net;user=dialstring', T0 + 7 * SEC));
    expect(h.reports.map((r) => [r.trigger, r.details.callId])).toEqual([['SSC_LATEST', 'c1']]);
  });

  it('SSC with an empty store, or from a permanent-mode subscriber, is rejected', () => {
    h.provision('TEMPORARY');
    h.run(ssc('*57', T0));
    expect(h.notes).toContainEqual({ kind: 'ssc', result: 'rejected', reason: 'no stored communication' });
    h.provision('PERMANENT');
    h.run(ssc('*57', T0 + SEC));
    expect(h.notes).toContainEqual({ kind: 'ssc', result: 'rejected', reason: 'not temporary mode' });
    expect(h.reports).toHaveLength(0);
  });

  const outcome = (callId: string) => {
    const rec = h.state.get(keys.ssc(TENANT, callId));
    return rec?.type === 'ssc' ? rec.outcome : null;
  };

  it('the SSC outcome names the announcement to play: success, then already registered for the same call', () => {
    h.provision('TEMPORARY');
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180));
    h.run(ssc('*57', T0 + 10 * SEC, 'ssc-a'));
    expect(outcome('ssc-a')).toMatchObject({
      result: 'SUCCESS',
      announcementId: 'mcid-registered',
      code: 'SSC_LATEST',
      subscriberId: 'tel:+15552220000',
      reportId: h.reports[0]!.reportId,
    });
    h.run(ssc('*57', T0 + 20 * SEC, 'ssc-b'));
    expect(outcome('ssc-b')).toMatchObject({ result: 'ALREADY_REGISTERED', announcementId: 'mcid-already-registered' });
    expect(h.reports).toHaveLength(1);
    // Still registered once it moved to the previous slot.
    h.run(inv('c2', T0 + 30 * SEC), resp('c2', T0 + 31 * SEC, 180), ssc('*57*2', T0 + 40 * SEC, 'ssc-c'));
    expect(outcome('ssc-c')?.result).toBe('ALREADY_REGISTERED');
    // A retransmitted SSC INVITE keeps its first outcome.
    h.run(ssc('*57', T0 + 41 * SEC, 'ssc-a'));
    expect(outcome('ssc-a')?.result).toBe('SUCCESS');
  });

  it('not allowed: no stored communication, not provisioned, permanent mode, locked; per-tenant ids', () => {
    h.config = {
      ...DEFAULT_DOMAIN_CONFIG,
      sscAnnouncements: {
        default: { success: 'ok', alreadyRegistered: 'again', notAllowed: 'no' },
        tenants: { [TENANT]: { notAllowed: `${TENANT}-no` }, other: { notAllowed: 'other-no' } },
      },
    };
    h.run(ssc('*57', T0, 'ssc-1'));
    expect(outcome('ssc-1')).toMatchObject({
      result: 'NOT_ALLOWED',
      reason: 'not provisioned',
      announcementId: `${TENANT}-no`,
    });
    h.provision('TEMPORARY');
    h.run(ssc('*57*2', T0 + SEC, 'ssc-2'));
    expect(outcome('ssc-2')).toMatchObject({ result: 'NOT_ALLOWED', reason: 'no stored communication' });
    h.run(inv('c1', T0 + 2 * SEC), resp('c1', T0 + 3 * SEC, 180), ssc('*57', T0 + 4 * SEC, 'ssc-3'));
    expect(outcome('ssc-3')).toMatchObject({ result: 'SUCCESS', announcementId: 'ok' });
    h.state.applyChanges(setTenantAdminState(TENANT, 'LOCKED', T0 + 5 * SEC));
    h.run(ssc('*57', T0 + 6 * SEC, 'ssc-4'));
    expect(outcome('ssc-4')).toMatchObject({ result: 'NOT_ALLOWED', reason: 'locked', announcementId: `${TENANT}-no` });
    h.provision('PERMANENT');
    h.state.applyChanges(setTenantAdminState(TENANT, 'UNLOCKED', T0 + 7 * SEC));
    h.run(ssc('*57', T0 + 8 * SEC, 'ssc-5'));
    expect(outcome('ssc-5')).toMatchObject({ result: 'NOT_ALLOWED', reason: 'not temporary mode' });
  });

  it('SSC outcomes are dropped by tick() after their time to live', () => {
    h.provision('TEMPORARY');
    h.run(ssc('*57', T0, 'ssc-1'));
    h.tick(T0 + 3600 * SEC);
    expect(outcome('ssc-1')).not.toBeNull();
    h.tick(T0 + DEFAULT_DOMAIN_CONFIG.sscOutcomeTtlSeconds * SEC);
    expect(outcome('ssc-1')).toBeNull();
  });

  it('a re-INVITE does not register or store a communication', () => {
    h.provision('TEMPORARY');
    h.run(inv('c1', T0, { toTag: 'b1' }), resp('c1', T0 + SEC, 180));
    expect(h.store().latest).toBeNull();
  });

  it('an in-dialog MCID request (INFO, application/vnd.etsi.mcid+xml) registers that communication', () => {
    h.provision('TEMPORARY');
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180), resp('c1', T0 + 2 * SEC, 200));
    const body =
      '<?xml version="1.0"?><mcid><request><McidRequestIndicator>1</McidRequestIndicator><HoldingIndicator>0</HoldingIndicator></request></mcid>';
    h.run(
      request('INFO', {
        callId: 'c1',
        at: T0 + 5 * SEC,
        requestUri: 'sip:caller@192.0.2.10',
        from: `<${S}>;tag=b1`,
        body,
        contentType: 'application/vnd.etsi.mcid+xml',
      }),
    );
    expect(h.reports.map((r) => [r.trigger, r.details.callId])).toEqual([['IN_CALL_REQUEST', 'c1']]);
  });
});

describe('interactions (seed 003 §2.4)', () => {
  beforeEach(() => {
    h.provision('TEMPORARY');
    // A communication already in the latest store, to see whether it is replaced.
    h.run(inv('old', T0 - 100 * SEC), resp('old', T0 - 99 * SEC, 180), resp('old', T0 - 98 * SEC, 200));
  });
  const latest = () => h.store().latest?.details.callId;

  it('communication deflection, immediate: 302 without 180 does not update the latest store', () => {
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 302), divert('c1', T0 + 2 * SEC, 480), resp('c1', T0 + 3 * SEC, 180));
    expect(latest()).toBe('old');
  });

  it('communication deflection during ringing: stored at the first 180, later forwarding changes nothing', () => {
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180), resp('c1', T0 + 4 * SEC, 302));
    h.run(divert('c1', T0 + 5 * SEC, 487), resp('c1', T0 + 6 * SEC, 180, 'c9'), resp('c1', T0 + 7 * SEC, 200, 'c9'));
    expect(latest()).toBe('c1');
    expect(h.store().latest?.storedAtMicros).toBe(T0 + SEC);
    expect(h.store().previous?.details.callId).toBe('old');
  });

  it('CFNR: stored at the first 180 from the served user, the forwarding does not affect it', () => {
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180));
    h.run(request('CANCEL', { callId: 'c1', at: T0 + 20 * SEC, requestUri: S, from: A_PAI[0]! }));
    h.run(divert('c1', T0 + 20 * SEC, 408), resp('c1', T0 + 21 * SEC, 180, 'c9'), resp('c1', T0 + 25 * SEC, 200, 'c9'));
    expect(h.store().latest?.storedAtMicros).toBe(T0 + SEC);
    expect(h.store().latest?.details.requestUri).toBe(S);
    expect(h.store().previous?.details.callId).toBe('old');
  });

  it('CFB without alerting: busy before any 180 does not update the latest store', () => {
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 486), divert('c1', T0 + 2 * SEC, 486), resp('c1', T0 + 3 * SEC, 180));
    expect(latest()).toBe('old');
  });

  it('CFB with alerting: stored at the first 180, the forwarding on busy does not affect it', () => {
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180), resp('c1', T0 + 3 * SEC, 486));
    h.run(divert('c1', T0 + 3 * SEC, 486), resp('c1', T0 + 4 * SEC, 180, 'c9'));
    expect(latest()).toBe('c1');
    expect(h.store().latest?.storedAtMicros).toBe(T0 + SEC);
  });

  it('CFU: the latest store is not updated', () => {
    h.run(inv('c1', T0), divert('c1', T0 + 1000, 302), resp('c1', T0 + SEC, 180), resp('c1', T0 + 2 * SEC, 200));
    expect(latest()).toBe('old');
  });

  it('CFNL: the latest store is not updated', () => {
    h.run(inv('c1', T0), divert('c1', T0 + 1000, 404), resp('c1', T0 + SEC, 180));
    expect(latest()).toBe('old');
  });

  it('CFNRc: the latest store is not updated (diversion announced by 181)', () => {
    h.run(
      inv('c1', T0),
      response({
        callId: 'c1',
        at: T0 + 1000,
        status: 181,
        historyInfo: [`<${S}>;index=1`, '<sip:+15553330000@ims.example.net;cause=503>;index=1.1'],
      }),
      resp('c1', T0 + SEC, 180),
      resp('c1', T0 + 2 * SEC, 200),
    );
    expect(latest()).toBe('old');
  });

  it('communication waiting: the waiting call is stored at its first 180, the active call stays previous', () => {
    h.run(inv('active', T0), resp('active', T0 + SEC, 180), resp('active', T0 + 2 * SEC, 200));
    h.run(inv('waiting', T0 + 30 * SEC), resp('waiting', T0 + 31 * SEC, 180));
    h.run(
      request('BYE', {
        callId: 'active',
        at: T0 + 40 * SEC,
        requestUri: 'sip:caller@192.0.2.10',
        from: `<${S}>;tag=b1`,
      }),
    );
    expect(latest()).toBe('waiting');
    expect(h.store().latest?.storedAtMicros).toBe(T0 + 31 * SEC);
    expect(h.store().previous?.details.callId).toBe('active');
  });

  it('communication completion: the original busy call is stored only if a 180 came before busy', () => {
    h.run(inv('busy-no-alert', T0), resp('busy-no-alert', T0 + SEC, 486));
    expect(latest()).toBe('old');
    h.run(
      inv('busy-alert', T0 + 10 * SEC),
      resp('busy-alert', T0 + 11 * SEC, 180),
      resp('busy-alert', T0 + 12 * SEC, 486),
    );
    expect(latest()).toBe('busy-alert');
  });

  it('communication completion: the recall to the user who started CC does not update their store', () => {
    // S started CC towards B; the network recalls S, naming B in Call-Info.
    h.run(
      inv('recall', T0, { callInfo: '<sip:+15554440000@ims.example.net>;purpose=call-completion;m=BS' }),
      resp('recall', T0 + SEC, 180),
      resp('recall', T0 + 2 * SEC, 200),
    );
    expect(latest()).toBe('old');
  });

  it('communication completion: the CC call to the called user updates their store as normal', () => {
    // S is the called user B: the CC call names S itself in Call-Info.
    h.run(inv('cc-call', T0, { callInfo: `<${S}>;purpose=call-completion;m=BS` }), resp('cc-call', T0 + SEC, 180));
    expect(latest()).toBe('cc-call');
  });

  it('incoming communication barring: a call rejected by ICB (603) does not update the latest store', () => {
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 603));
    expect(latest()).toBe('old');
  });

  it('anonymous communication rejection: a call rejected by ACR (433) does not update the latest store', () => {
    h.run(inv('c1', T0, { privacy: 'id' }), resp('c1', T0 + SEC, 433));
    expect(latest()).toBe('old');
  });

  it('forking: one store at the first 180 of any fork, none at the later 180s or the 200 OK', () => {
    h.notes = [];
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180, 'fork-a'), resp('c1', T0 + 2 * SEC, 180, 'fork-b'));
    h.run(resp('c1', T0 + 5 * SEC, 200, 'fork-b'));
    expect(latest()).toBe('c1');
    expect(h.store().latest?.storedAtMicros).toBe(T0 + SEC);
    expect(h.store().previous?.details.callId).toBe('old');
    expect(h.notes.filter((n) => n.kind === 'stored')).toHaveLength(1);
  });

  it('forking: INVITEs forked to the registered contacts are not diversions', () => {
    h.run(inv('c1', T0));
    h.run(inv('c1', T0 + 100, { requestUri: 'sip:ue-a@192.0.2.31:5060', to: `<${S}>` }));
    h.run(inv('c1', T0 + 200, { requestUri: 'sip:ue-b@192.0.2.32:5060', to: `<${S}>` }));
    h.run(resp('c1', T0 + SEC, 180, 'fork-b'), resp('c1', T0 + 2 * SEC, 180, 'fork-a'));
    expect(latest()).toBe('c1');
    expect(h.store().latest?.storedAtMicros).toBe(T0 + SEC);
  });

  it('forking: stored at the 200 OK when no fork sent 180', () => {
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 183, 'fork-a'), resp('c1', T0 + 3 * SEC, 200, 'fork-b'));
    expect(h.store().latest?.storedAtMicros).toBe(T0 + 3 * SEC);
  });
});

describe('interactions in permanent mode', () => {
  it('CFU: one report, carrying the diversion, at the diversion', () => {
    h.provision('PERMANENT');
    h.run(inv('c1', T0), divert('c1', T0 + 1000, 302), resp('c1', T0 + SEC, 180), resp('c1', T0 + 2 * SEC, 200));
    expect(h.reports.map((r) => [r.outcome, r.diversion, r.mcidTimestampMicros])).toEqual([['DIVERTED', 'CFU', T0]]);
  });

  it('CFNRc without History-Info: the RFC 4458 cause on the new Request-URI names the diversion', () => {
    h.provision('PERMANENT');
    h.run(inv('c1', T0), inv('c1', T0 + 1000, { requestUri: `${C};cause=503`, to: `<${S}>` }));
    expect(h.reports.map((r) => [r.outcome, r.diversion])).toEqual([['DIVERTED', 'CFNRc']]);
  });

  it('CFNR: the report made at the first 180 is not repeated by the forwarding', () => {
    h.provision('PERMANENT');
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180), divert('c1', T0 + 20 * SEC, 408), resp('c1', T0 + 21 * SEC, 200));
    expect(h.reports).toHaveLength(1);
  });

  it('ICB/ACR rejected attempts are reported only when operator policy asks for it', () => {
    h.provision('PERMANENT');
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 603));
    expect(h.reports).toHaveLength(0);
    h.config = { ...DEFAULT_DOMAIN_CONFIG, reportBarredAttempts: true };
    h.run(inv('c2', T0 + 5 * SEC), resp('c2', T0 + 6 * SEC, 433));
    expect(h.reports.map((r) => r.outcome)).toEqual(['BARRED']);
  });
});

describe('non-3GPP interworking: Diversion captured as History-Info (seed 003 §2.2)', () => {
  const S_DIV = '<sip:+15552220000@ims.example.net;user=phone>;reason=no-answer;counter=1';

  it('an INVITE with Diversion and no History-Info is captured and reported with History-Info', () => {
    h.provision('PERMANENT');
    h.run(
      inv('c1', T0, { diversion: ['<sip:first@example.com>;reason=unconditional', S_DIV].reverse() }),
      resp('c1', T0 + SEC, 180),
    );
    const hi = h.reports[0]!.details.historyInfo;
    expect(hi).toHaveLength(3);
    expect(hi[0]).toMatch(/^<sip:first@example\.com\?Reason=SIP%3Bcause%3D302>;index=1$/);
    expect(hi[2]).toBe(`<${S};cause=408>;index=1.1.1;mp=1.1`);
  });

  it('temporary mode: the stored communication carries the mapped History-Info to the SSC report', () => {
    h.provision('TEMPORARY');
    h.run(inv('c1', T0, { diversion: [S_DIV] }), resp('c1', T0 + SEC, 180), ssc('*57', T0 + 10 * SEC));
    expect(h.reports[0]!.details.historyInfo).toHaveLength(2);
  });

  it("the INVITE's own History-Info wins; with the setting off Diversion is left alone", () => {
    h.provision('PERMANENT');
    h.run(inv('c1', T0, { diversion: [S_DIV], historyInfo: [`<${S}>;index=1`] }), resp('c1', T0 + SEC, 180));
    expect(h.reports[0]!.details.historyInfo).toEqual([`<${S}>;index=1`]);
    h.config = { ...DEFAULT_DOMAIN_CONFIG, diversionToHistoryInfo: false };
    h.run(inv('c2', T0 + 5 * SEC, { diversion: [S_DIV] }), resp('c2', T0 + 6 * SEC, 180));
    expect(h.reports[1]!.details.historyInfo).toEqual([]);
  });

  it("a non-3GPP AS diverting with Diversion only: the served user's leg ends as diverted (CFU)", () => {
    h.provision('PERMANENT');
    h.run(
      inv('c1', T0),
      inv('c1', T0 + 1000, { requestUri: C, to: `<${S}>`, diversion: [`<${S}>;reason=unconditional`] }),
    );
    expect(h.reports.map((r) => [r.outcome, r.diversion])).toEqual([['DIVERTED', 'CFU']]);
  });
});

describe('purge of stored details (seed 003 §2.3.3)', () => {
  beforeEach(() => {
    h.provision('TEMPORARY');
    h.run(register({ aor: S, at: T0, expires: 600 }));
    h.run(inv('c1', T0 + SEC), resp('c1', T0 + 2 * SEC, 180));
  });

  it('deregistration purges the stored communication details', () => {
    h.run(register({ aor: S_TEL, at: T0 + 10 * SEC, expires: 0 }));
    expect(h.store().latest).toBeNull();
    expect(h.notes).toContainEqual({ kind: 'purged', reason: 'deregistration' });
    h.run(ssc('*57', T0 + 11 * SEC));
    expect(h.reports).toHaveLength(0);
  });

  it('registration expiry purges the stored details (tick)', () => {
    h.tick(T0 + 599 * SEC);
    expect(h.store().latest).not.toBeNull();
    h.tick(T0 + 600 * SEC);
    expect(h.store().latest).toBeNull();
    expect(h.notes).toContainEqual({ kind: 'purged', reason: 'registration-expired' });
  });

  it('registration expiry purges before an SSC even without a tick; a refresh keeps the details', () => {
    h.run(register({ aor: S, at: T0 + 500 * SEC, expires: 600 }));
    h.run(ssc('*57', T0 + 700 * SEC));
    expect(h.reports).toHaveLength(1);
    h.run(ssc('*57', T0 + 1200 * SEC, 'ssc-late'));
    expect(h.reports).toHaveLength(1);
    expect(h.store().latest).toBeNull();
  });
});

describe('administrative states (seed 003 §3.1, §3.10)', () => {
  it('global state locked: no MCID service', () => {
    h.provision('PERMANENT');
    h.state.applyChanges(setGlobalAdminState('LOCKED', T0));
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180));
    expect(h.reports).toHaveLength(0);
  });

  it('provider (wholesale) state locked: no MCID service for that tenant', () => {
    h.provision('TEMPORARY');
    h.state.applyChanges(setTenantAdminState(TENANT, 'LOCKED', T0));
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180), ssc('*57', T0 + 2 * SEC));
    expect(h.store().latest).toBeNull();
    expect(h.notes).toContainEqual({ kind: 'ssc', result: 'rejected', reason: 'locked' });
  });

  it('both unset means locked; both unlocked means the service acts', () => {
    const fresh = new MemoryStateStore();
    const sub = upsertSubscriber(
      fresh,
      { tenant: TENANT, identities: [S], mode: 'PERMANENT', terminating: true, originating: false },
      T0,
    );
    if (!sub.ok) throw new Error('provision');
    fresh.applyChanges(sub.changes);
    const r1 = apply(fresh, inv('c1', T0));
    expect(r1.changes).toHaveLength(0);
    fresh.applyChanges([...setGlobalAdminState('UNLOCKED', T0), ...setTenantAdminState(TENANT, 'UNLOCKED', T0)]);
    const r2 = apply(fresh, inv('c1', T0));
    expect(r2.changes).toHaveLength(1);
  });
});

describe('subscriber data', () => {
  it('rejects a bad identity naming the field, a taken identity, and originating temporary mode', () => {
    const bad = upsertSubscriber(
      h.state,
      { tenant: TENANT, identities: [S, 'mailto:x'], mode: 'TEMPORARY', terminating: true, originating: false },
      T0,
    );
    expect(bad).toMatchObject({ ok: false, field: 'identities/1' });
    h.provision('TEMPORARY');
    const taken = upsertSubscriber(
      h.state,
      { tenant: TENANT, identities: ['sip:other@x', S_TEL], mode: 'TEMPORARY', terminating: true, originating: false },
      T0,
    );
    expect(taken).toMatchObject({ ok: false, code: 'MCD_ERR_IDENTITY_TAKEN' });
    const orig = upsertSubscriber(
      h.state,
      { tenant: TENANT, identities: ['sip:o@x'], mode: 'TEMPORARY', terminating: false, originating: true },
      T0,
    );
    expect(orig).toMatchObject({ ok: false, field: 'originating' });
  });

  it('deleting a subscriber removes aliases and stored details', () => {
    const sub = h.provision('TEMPORARY');
    h.run(inv('c1', T0), resp('c1', T0 + SEC, 180));
    h.state.applyChanges(deleteSubscriber(h.state, TENANT, sub.id));
    h.run(resp('c1', T0 + 2 * SEC, 200)); // the call in progress ends without touching deleted data
    expect([...h.state.keys('')].filter((k) => !k.startsWith('admin/'))).toEqual([]);
  });
});

describe('robustness', () => {
  it('garbage and non-SIP events never throw', () => {
    h.provision('PERMANENT');
    const junk = inv('c1', T0);
    junk.content = Buffer.from([0xff, 0x00, 0x13, 0x37]);
    junk.attributes = {};
    expect(() => h.run(junk)).not.toThrow();
    const mail = { ...inv('c2', T0), category: 'NEW_MAIL' as const };
    const r = apply(h.state, mail);
    expect(r.notes[0]).toMatchObject({ kind: 'ignored' });
  });
});
