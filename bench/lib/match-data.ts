// Generated warrants and events for the matching benchmark: 100 000 targets of every type,
// two per warrant, and events with three parties and network addresses, about a third of
// which involve a target.
import type { IdentifierType, NormalizedEvent, Party, Target, Warrant } from '@li/schemas';
import { sampleEvent, sampleWarrant } from '@li/schemas/testing';

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

// Deterministic value i of each type; events use the same generator to hit or miss.
function value(type: IdentifierType, i: number): string {
  switch (type) {
    case 'E164':
      return `+3933${pad(i, 8)}`;
    case 'TEL_URI':
      return `tel:+3906${pad(i, 8)}`;
    case 'IMSI':
      return `22201${pad(i, 10)}`;
    case 'IMEI':
      return `3512345${pad(i, 7)}`;
    case 'SIP_URI':
      return `sip:user${i}@voip.example.it`;
    case 'EMAIL':
      return `user${i}@mail.example.it`;
    case 'MAIL_ACCOUNT':
      return `acct${i}`;
    case 'IPV4':
      return i % 4 === 0
        ? `10.${(i >> 8) & 255}.${i & 255}.0/24`
        : `100.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    case 'IPV6':
      return i % 2 === 0 ? `2001:db8:${(i & 0xffff).toString(16)}::/48` : `2001:db8:1::${i.toString(16)}`;
    case 'PROVIDER_ACCOUNT':
      return `CUST${i}`;
    case 'SIP_INSTANCE':
      return `urn:uuid:00000000-0000-4000-8000-${pad(i, 12)}`;
  }
}
const MIX: [IdentifierType, number][] = [
  ['E164', 0.25],
  ['TEL_URI', 0.05],
  ['IMSI', 0.15],
  ['IMEI', 0.1],
  ['SIP_URI', 0.1],
  ['EMAIL', 0.1],
  ['MAIL_ACCOUNT', 0.05],
  ['IPV4', 0.1],
  ['IPV6', 0.05],
  ['PROVIDER_ACCOUNT', 0.05],
];
const types: IdentifierType[] = [];
for (const [t, share] of MIX) for (let i = 0; i < Math.round(share * 1000); i++) types.push(t);

export function generateWarrants(targets: number, tenant: string, nowMicros: number): Warrant[] {
  const base = sampleWarrant({
    tenant,
    validFromMicros: nowMicros - 86_400_000_000,
    validUntilMicros: nowMicros + 86_400_000_000,
  });
  const out: Warrant[] = [];
  const perWarrant = 2;
  for (let w = 0; w < targets / perWarrant; w++) {
    const ts: Target[] = [];
    for (let k = 0; k < perWarrant; k++) {
      const n = w * perWarrant + k;
      const type = types[n % types.length]!;
      ts.push({ id: `t${k}`, type, value: value(type, n) });
    }
    out.push({ ...base, liid: `L${w}`, targets: ts, selection: { ...base.selection } });
  }
  return out;
}

export function generateEvents(count: number, targets: number, tenant: string, nowMicros: number): NormalizedEvent[] {
  const events: NormalizedEvent[] = [];
  const roles = ['CALLER', 'CALLEE', 'OTHER'] as const;
  for (let e = 0; e < count; e++) {
    const parties: Party[] = [];
    for (let k = 0; k < 3; k++) {
      const n = (e * 7919 + k * 104_729) % (targets * 10);
      const type = types[n % types.length]!;
      const v = type === 'IPV4' ? `100.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` : value(type, n);
      parties.push({ role: roles[k]!, type, value: v.replace('/24', '').replace('/48', '') });
    }
    events.push(
      sampleEvent({
        tenant,
        eventId: `e${e}`,
        occurredAtMicros: nowMicros,
        communicationId: `c${e}`,
        parties,
        network: { transport: 'udp', srcAddress: `10.${e & 255}.3.4`, srcPort: 1, dstAddress: '192.0.2.1', dstPort: 2 },
      }),
    );
  }
  return events;
}
