import type { EventCategory, NormalizedEvent, Party, ReportSelection, Warrant } from '@li/schemas';
import { EVENT_CATEGORIES, SELECTION_FLAG } from '@li/schemas';
import { sampleEvent, sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { WarrantIndex } from './warrant-index.ts';

const FROM = 1_795_000_000_000_000;
const UNTIL = 1_800_000_000_000_000;
const INSIDE = 1_797_000_000_000_000;
const ALL: ReportSelection = {
  login: true,
  signals: true,
  media: true,
  newMail: true,
  sentMail: true,
  mailbox: true,
  access: true,
  partial: true,
  deletedMail: true,
};

function warrant(liid: string, targets: Warrant['targets'], o: Partial<Warrant> = {}): Warrant {
  return sampleWarrant({ liid, targets, selection: ALL, validFromMicros: FROM, validUntilMicros: UNTIL, ...o });
}
function event(parties: Party[], o: Partial<NormalizedEvent> = {}): NormalizedEvent {
  return sampleEvent({ parties, network: null, occurredAtMicros: INSIDE, ...o });
}
const liids = (r: { liid: string }[]) => r.map((m) => m.liid);

describe('WarrantIndex: every target type, however the network writes it', () => {
  const cases: [Warrant['targets'][number], Party, string][] = [
    [
      { id: 't', type: 'E164', value: '+390612345678' },
      { role: 'CALLEE', type: 'E164', value: '06 1234 5678' },
      'national E.164',
    ],
    [
      { id: 't', type: 'E164', value: '+390612345678' },
      { role: 'CALLER', type: 'TEL_URI', value: 'tel:+39-06-12345678' },
      'TEL URI',
    ],
    [
      { id: 't', type: 'E164', value: '+390612345678' },
      { role: 'CALLER', type: 'SIP_URI', value: '<sip:+390612345678@ims.op.it;user=phone>' },
      'SIP phone URI',
    ],
    [
      { id: 't', type: 'TEL_URI', value: 'tel:+390612345678' },
      { role: 'CALLEE', type: 'E164', value: '0039 06 12345678' },
      'TEL target, E.164 party',
    ],
    [
      { id: 't', type: 'IMSI', value: '222010123456789' },
      { role: 'CALLER', type: 'IMSI', value: '222 01 0123456789' },
      'IMSI',
    ],
    [
      { id: 't', type: 'IMEI', value: '49015420323751' },
      { role: 'CALLER', type: 'IMEI', value: '4901542032375107' },
      'IMEISV',
    ],
    [
      { id: 't', type: 'SIP_URI', value: 'sip:Bob@example.com' },
      { role: 'CALLEE', type: 'SIP_URI', value: 'SIPS:Bob@EXAMPLE.com:5061;transport=tls' },
      'SIP URI',
    ],
    [
      { id: 't', type: 'EMAIL', value: 'bob@example.com' },
      { role: 'SENDER', type: 'EMAIL', value: 'Bob <BOB@Example.com>' },
      'e-mail',
    ],
    [
      { id: 't', type: 'MAIL_ACCOUNT', value: 'bob' },
      { role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'Bob' },
      'mail account',
    ],
    [
      { id: 't', type: 'MAIL_ACCOUNT', value: 'bob@example.com' },
      { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@example.com' },
      'account as address',
    ],
    [{ id: 't', type: 'IPV4', value: '192.0.2.7' }, { role: 'CLIENT', type: 'IPV4', value: '192.0.2.7' }, 'IPv4 host'],
    [
      { id: 't', type: 'IPV4', value: '192.0.2.0/24' },
      { role: 'CLIENT', type: 'IPV6', value: '::ffff:192.0.2.99' },
      'IPv4 prefix via mapped v6',
    ],
    [
      { id: 't', type: 'IPV6', value: '2001:db8::1' },
      { role: 'SERVER', type: 'IPV6', value: '2001:0DB8:0:0::0001' },
      'IPv6 host',
    ],
    [
      { id: 't', type: 'IPV6', value: '2001:db8:aa::/48' },
      { role: 'SERVER', type: 'IPV6', value: '2001:db8:aa:1::9' },
      'IPv6 prefix',
    ],
    [
      { id: 't', type: 'PROVIDER_ACCOUNT', value: 'Cust-42' },
      { role: 'ACCOUNT', type: 'PROVIDER_ACCOUNT', value: 'Cust-42' },
      'provider account',
    ],
  ];
  for (const [target, party, name] of cases) {
    it(`matches ${name}`, () => {
      const idx = new WarrantIndex(() => ({ defaultCountryCode: '39' }));
      idx.upsert(warrant('L1', [target]));
      idx.upsert(warrant('OTHER', [{ id: 'x', type: 'IMSI', value: '222019999999999' }]));
      const out = idx.match(event([party]), 42);
      expect(liids(out)).toEqual(['L1']);
      expect(out[0]!.matchedRoles).toEqual([party.role]);
      expect(out[0]!.matchedAtMicros).toBe(42);
    });
  }
  it('does not match near misses', () => {
    const idx = new WarrantIndex(() => ({ defaultCountryCode: '39' }));
    idx.upsert(
      warrant('L1', [
        { id: 'a', type: 'SIP_URI', value: 'sip:Bob@example.com' },
        { id: 'b', type: 'IPV4', value: '192.0.2.0/25' },
        { id: 'c', type: 'E164', value: '+390612345678' },
      ]),
    );
    const miss = idx.match(
      event([
        { role: 'CALLER', type: 'SIP_URI', value: 'sip:bob@example.com' }, // user part is case-sensitive
        { role: 'CLIENT', type: 'IPV4', value: '192.0.2.128' },
        { role: 'CALLEE', type: 'E164', value: '+390612345679' },
        { role: 'OTHER', type: 'IMSI', value: 'garbage' },
      ]),
      1,
    );
    expect(miss).toEqual([]);
  });
});

describe('WarrantIndex: roles, network addresses and many warrants', () => {
  it('lists every role the target appears in, including network src/dst', () => {
    const idx = new WarrantIndex();
    idx.upsert(
      warrant('L1', [
        { id: 'a', type: 'IPV4', value: '198.51.100.0/24' },
        { id: 'b', type: 'E164', value: '+390612345678' },
      ]),
    );
    const out = idx.match(
      event([{ role: 'CALLEE', type: 'E164', value: '+390612345678' }], {
        network: { transport: 'tcp', srcAddress: '203.0.113.1', srcPort: 1, dstAddress: '198.51.100.8', dstPort: 2 },
      }),
      1,
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.matchedRoles).toEqual(['CALLEE', 'SERVER']);
    // Which parties matched: the event's party as it has it, and the network address as a SERVER party.
    expect(out[0]!.matchedParties).toEqual([
      { role: 'CALLEE', type: 'E164', value: '+390612345678' },
      { role: 'SERVER', type: 'IPV4', value: '198.51.100.8' },
    ]);
  });
  it('matches network addresses as hosts and prefixes, IPv4, IPv6 and IPv4-mapped, as the event writes them', () => {
    const idx = new WarrantIndex();
    idx.upsert(warrant('H4', [{ id: 'a', type: 'IPV4', value: '192.0.2.7' }]));
    idx.upsert(warrant('P6', [{ id: 'a', type: 'IPV6', value: '2001:db8:1::/48' }]));
    idx.upsert(warrant('M4', [{ id: 'a', type: 'IPV4', value: '198.51.100.0/24' }]));
    const at = (srcAddress: string, dstAddress: string) =>
      idx
        .match(event([], { network: { transport: 'udp', srcAddress, srcPort: 1, dstAddress, dstPort: 2 } }), 1)
        .map((m) => [m.liid, m.matchedParties]);
    expect(at(' 192.0.2.7 ', '2001:DB8:1:0::9')).toEqual([
      ['H4', [{ role: 'CLIENT', type: 'IPV4', value: ' 192.0.2.7 ' }]],
      ['P6', [{ role: 'SERVER', type: 'IPV6', value: '2001:DB8:1:0::9' }]],
    ]);
    expect(at('::ffff:198.51.100.9', '192.0.2.70')).toEqual([
      ['M4', [{ role: 'CLIENT', type: 'IPV4', value: '::ffff:198.51.100.9' }]],
    ]);
    expect(at('192.0.2.07', '2001:db8:2::1')).toEqual([]);
  });
  it("carries the warrant's courtCaseId and only the parties that matched", () => {
    const idx = new WarrantIndex(() => ({ defaultCountryCode: '39' }));
    idx.upsert({ ...warrant('L1', [{ id: 'b', type: 'E164', value: '+390612345678' }]), courtCaseId: 'RG-7/2026' });
    const out = idx.match(
      event([
        { role: 'CALLER', type: 'SIP_URI', value: 'sip:alice@example.com' },
        { role: 'CALLEE', type: 'TEL_URI', value: 'tel:+39-06-12345678' },
      ]),
      1,
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.courtCaseId).toBe('RG-7/2026');
    expect(out[0]!.matchedParties).toEqual([{ role: 'CALLEE', type: 'TEL_URI', value: 'tel:+39-06-12345678' }]);
  });
  it('emits one record per LIID for many warrants on one target and for nested prefixes', () => {
    const idx = new WarrantIndex();
    for (let i = 0; i < 5; i++) idx.upsert(warrant(`SAME${i}`, [{ id: 't', type: 'E164', value: '+390612345678' }]));
    idx.upsert(warrant('P8', [{ id: 't', type: 'IPV4', value: '10.0.0.0/8' }]));
    idx.upsert(warrant('P16', [{ id: 't', type: 'IPV4', value: '10.1.0.0/16' }]));
    idx.upsert(
      warrant('P24', [
        { id: 't', type: 'IPV4', value: '10.1.2.0/24' },
        { id: 'u', type: 'IPV4', value: '10.1.2.3' },
      ]),
    );
    idx.upsert(warrant('PX', [{ id: 't', type: 'IPV4', value: '10.2.0.0/16' }]));
    const out = idx.match(
      event([
        { role: 'CALLER', type: 'E164', value: '+390612345678' },
        { role: 'CLIENT', type: 'IPV4', value: '10.1.2.3' },
      ]),
      1,
    );
    expect(liids(out)).toEqual(['P16', 'P24', 'P8', 'SAME0', 'SAME1', 'SAME2', 'SAME3', 'SAME4']);
    expect(out.find((m) => m.liid === 'P24')!.matchedRoles).toEqual(['CLIENT']);
  });
  it('keeps tenants apart', () => {
    const idx = new WarrantIndex();
    idx.upsert(warrant('L1', [{ id: 't', type: 'IMSI', value: '222010123456789' }], { tenant: 'other' }));
    expect(idx.match(event([{ role: 'CALLER', type: 'IMSI', value: '222010123456789' }]), 1)).toEqual([]);
    expect(
      idx.match(event([{ role: 'CALLER', type: 'IMSI', value: '222010123456789' }], { tenant: 'other' }), 1),
    ).toHaveLength(1);
  });
  it('the same LIID in two authorising countries is two warrants', () => {
    const idx = new WarrantIndex();
    const t = [{ id: 't', type: 'IMSI' as const, value: '222010123456789' }];
    idx.upsert(warrant('L1', t, { authorisationCountry: 'IT' }));
    idx.upsert(warrant('L1', t, { authorisationCountry: 'FR' }));
    const out = idx.match(event([{ role: 'CALLER', type: 'IMSI', value: '222010123456789' }]), 1);
    expect(out.map((m) => m.authorisationCountry)).toEqual(['FR', 'IT']);
  });
});

describe('WarrantIndex: selection flags', () => {
  const matchable = EVENT_CATEGORIES.filter((c) => SELECTION_FLAG[c] !== null);
  for (const category of matchable) {
    it(`${category} is reported only when its flag is selected`, () => {
      const flag = SELECTION_FLAG[category]!;
      const idx = new WarrantIndex();
      const only = Object.fromEntries(Object.keys(ALL).map((k) => [k, k === flag])) as unknown as ReportSelection;
      const none = Object.fromEntries(Object.keys(ALL).map((k) => [k, k !== flag])) as unknown as ReportSelection;
      idx.upsert(warrant('ON', [{ id: 't', type: 'MAIL_ACCOUNT', value: 'bob' }], { selection: only }));
      idx.upsert(warrant('OFF', [{ id: 't', type: 'MAIL_ACCOUNT', value: 'bob' }], { selection: none }));
      const out = idx.match(event([{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'bob' }], { category }), 1);
      expect(liids(out)).toEqual(['ON']);
    });
  }
  it('ACCOUNT events are never reported', () => {
    const idx = new WarrantIndex();
    idx.upsert(warrant('ON', [{ id: 't', type: 'MAIL_ACCOUNT', value: 'bob' }]));
    const category: EventCategory = 'ACCOUNT';
    expect(idx.match(event([{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'bob' }], { category }), 1)).toEqual([]);
  });
});

describe('WarrantIndex: validity windows, state and versions', () => {
  const target = [{ id: 't', type: 'E164' as const, value: '+390612345678' }];
  const at = (t: number) => event([{ role: 'CALLER', type: 'E164', value: '+390612345678' }], { occurredAtMicros: t });

  it('matches in [validFrom, validUntil) only, judged at the event time', () => {
    const idx = new WarrantIndex();
    idx.upsert(warrant('L1', target));
    expect(idx.match(at(FROM - 1), 1)).toEqual([]);
    expect(liids(idx.match(at(FROM), 1))).toEqual(['L1']);
    expect(liids(idx.match(at(UNTIL - 1), 1))).toEqual(['L1']);
    expect(idx.match(at(UNTIL), 1)).toEqual([]);
  });
  it('an extension (newer version) widens the window; a stale replay is ignored', () => {
    const idx = new WarrantIndex();
    idx.upsert(warrant('L1', target, { version: 1 }));
    expect(idx.upsert(warrant('L1', target, { version: 2, validUntilMicros: UNTIL + 1000 }))).toEqual({
      applied: true,
      skippedTargets: [],
    });
    expect(liids(idx.match(at(UNTIL + 10), 1))).toEqual(['L1']);
    expect(idx.upsert(warrant('L1', target, { version: 1 }))).toEqual({ applied: false, reason: 'STALE_VERSION' });
    expect(liids(idx.match(at(UNTIL + 10), 1))).toEqual(['L1']);
    expect(idx.get('acme', 'IT:L1')?.version).toBe(2);
  });
  it('suspension and deactivation stop matching; resume restores it', () => {
    const idx = new WarrantIndex();
    idx.upsert(warrant('L1', target, { version: 1 }));
    idx.upsert(warrant('L1', target, { version: 2, state: 'SUSPENDED' }));
    expect(idx.match(at(INSIDE), 1)).toEqual([]);
    idx.upsert(warrant('L1', target, { version: 3, state: 'ACTIVE' }));
    expect(idx.match(at(INSIDE), 1)).toHaveLength(1);
    idx.upsert(warrant('L1', target, { version: 4, state: 'DEACTIVATED' }));
    expect(idx.match(at(INSIDE), 1)).toEqual([]);
    expect(idx.stats().exactKeys).toBe(0);
  });
  it('modified targets replace the old ones; a tombstone removes the warrant', () => {
    const idx = new WarrantIndex();
    idx.upsert(warrant('L1', target, { version: 1 }));
    idx.upsert(warrant('L1', [{ id: 'n', type: 'IMSI', value: '222010123456789' }], { version: 2 }));
    expect(idx.match(at(INSIDE), 1)).toEqual([]);
    expect(idx.match(event([{ role: 'CALLER', type: 'IMSI', value: '222010123456789' }]), 1)).toHaveLength(1);
    expect(idx.remove('acme', 'IT:L1')).toBe(true);
    expect(idx.match(event([{ role: 'CALLER', type: 'IMSI', value: '222010123456789' }]), 1)).toEqual([]);
  });
  it('reports unindexable targets and refuses malformed records', () => {
    const idx = new WarrantIndex();
    expect(idx.upsert(warrant('L1', [{ id: 'bad', type: 'IPV4', value: 'nonsense' }]))).toEqual({
      applied: true,
      skippedTargets: ['bad'],
    });
    expect(idx.upsert({} as Warrant)).toEqual({ applied: false, reason: 'BAD_RECORD' });
  });
});

describe('WarrantIndex: incomplete numbers (seed 001 Art. 9 c.1 e)', () => {
  const incomplete = (id: string, value: string) => ({ id, type: 'E164' as const, value, incomplete: true });
  const callee = (value: string, type: Party['type'] = 'E164'): Party => ({ role: 'CALLEE', type, value });

  it('matches every number starting with the prefix, however the network writes it', () => {
    const idx = new WarrantIndex(() => ({ defaultCountryCode: '39' }));
    idx.upsert(warrant('P', [incomplete('t', '+390612345')]));
    for (const p of [
      callee('06 1234 5678'), // national, read with the tenant's plan
      callee('+390612345'), // the prefix itself
      callee('tel:+39-06-1234599', 'TEL_URI'),
      callee('<sip:+390612345000@ims.op.it;user=phone>', 'SIP_URI'),
    ]) {
      expect(liids(idx.match(event([p]), 1)), p.value).toEqual(['P']);
    }
    for (const p of [callee('+39061234'), callee('+390612346000'), callee('+4906123450')]) {
      expect(liids(idx.match(event([p]), 1)), p.value).toEqual([]);
    }
  });

  it('without the flag the same value matches only itself', () => {
    const idx = new WarrantIndex();
    idx.upsert(warrant('X', [{ id: 't', type: 'E164', value: '+390612345' }]));
    expect(liids(idx.match(event([callee('+390612345678')]), 1))).toEqual([]);
    expect(liids(idx.match(event([callee('+390612345')]), 1))).toEqual(['X']);
  });

  it('nested prefixes of different warrants all match; a too-short or non-E.164 one is skipped', () => {
    const idx = new WarrantIndex();
    idx.upsert(warrant('A', [incomplete('t', '+39061234')]));
    idx.upsert(warrant('B', [incomplete('t', '+3906123456')]));
    idx.upsert(warrant('C', [{ id: 'x', type: 'E164', value: '+390612345678' }]));
    expect(liids(idx.match(event([callee('+390612345678')]), 1))).toEqual(['A', 'B', 'C']);
    expect(idx.upsert(warrant('S', [incomplete('short', '+3906123')]))).toEqual({
      applied: true,
      skippedTargets: ['short'],
    });
    expect(idx.upsert(warrant('I', [{ id: 'imsi', type: 'IMSI', value: '22201012345', incomplete: true }]))).toEqual({
      applied: true,
      skippedTargets: ['imsi'],
    });
    expect(liids(idx.match(event([callee('+390612399999')]), 1))).toEqual([]);
  });

  it('a newer version without the target, or a deactivation, stops the prefix matching', () => {
    const idx = new WarrantIndex();
    idx.upsert(warrant('P', [incomplete('t', '+390612345')]));
    idx.upsert(warrant('P', [{ id: 'u', type: 'E164', value: '+391111111111' }], { version: 2 }));
    expect(liids(idx.match(event([callee('+390612345678')]), 1))).toEqual([]);
    idx.upsert(warrant('Q', [incomplete('t', '+390612345')]));
    idx.upsert(warrant('Q', [incomplete('t', '+390612345')], { version: 2, state: 'DEACTIVATED' }));
    expect(liids(idx.match(event([callee('+390612345678')]), 1))).toEqual([]);
    expect(idx.stats().exactKeys).toBe(1);
  });
});
