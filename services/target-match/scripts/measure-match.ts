// Local measurement: match throughput and heap with 100 000 active targets of mixed types.
// Run: node --expose-gc scripts/measure-match.ts [targets] [events]
// Not a benchmark of record (bench/match in the monorepo prints it beside bench/bus).
import { loadavg } from 'node:os';
import type { IdentifierType, NormalizedEvent, Party, Target, Warrant } from '@li/schemas';
import { sampleEvent, sampleWarrant } from '@li/schemas/testing';
import { WarrantIndex } from '../src/domain/warrant-index.ts';

const TARGETS = Number(process.argv[2] ?? 100_000);
const EVENTS = Number(process.argv[3] ?? 300_000);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

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

gc();
const heap0 = process.memoryUsage().heapUsed;
const idx = new WarrantIndex(() => ({ defaultCountryCode: '39' }));
const base = sampleWarrant();
const t0 = performance.now();
const perWarrant = 2;
for (let w = 0; w < TARGETS / perWarrant; w++) {
  const targets: Target[] = [];
  for (let k = 0; k < perWarrant; k++) {
    const n = w * perWarrant + k;
    const type = types[n % types.length]!;
    targets.push({ id: `t${k}`, type, value: value(type, n) });
  }
  const warrant: Warrant = { ...base, liid: `L${w}`, targets, selection: { ...base.selection } };
  idx.upsert(warrant);
}
const buildMs = performance.now() - t0;
gc();
const heap1 = process.memoryUsage().heapUsed;

// Events: 3 parties + network; ~10% involve a target.
const events: NormalizedEvent[] = [];
const roles = ['CALLER', 'CALLEE', 'OTHER'] as const;
for (let e = 0; e < 10_000; e++) {
  const parties: Party[] = [];
  for (let k = 0; k < 3; k++) {
    const n = (e * 7919 + k * 104_729) % (TARGETS * 10);
    const type = types[n % types.length]!;
    const v = type === 'IPV4' ? `100.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}` : value(type, n);
    parties.push({ role: roles[k]!, type, value: v.replace('/24', '').replace('/48', '') });
  }
  events.push(
    sampleEvent({
      eventId: `e${e}`,
      parties,
      network: { transport: 'udp', srcAddress: `10.${e & 255}.3.4`, srcPort: 1, dstAddress: '192.0.2.1', dstPort: 2 },
    }),
  );
}
let matched = 0;
for (let i = 0; i < 20_000; i++) matched += idx.match(events[i % events.length]!, 1).length; // warm-up
matched = 0;
const t1 = performance.now();
const cpu0 = process.cpuUsage();
for (let i = 0; i < EVENTS; i++) matched += idx.match(events[i % events.length]!, 1).length;
const matchMs = performance.now() - t1;
const cpu = process.cpuUsage(cpu0);
// On a shared machine wall time depends on the neighbours; CPU time (user+system) much less.
const cpuMs = (cpu.user + cpu.system) / 1000;

const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
console.log(
  JSON.stringify({
    targets: TARGETS,
    warrants: TARGETS / perWarrant,
    stats: idx.stats(),
    buildMs: Math.round(buildMs),
    indexHeapMiB: mib(heap1 - heap0),
    heapUsedMiB: mib(process.memoryUsage().heapUsed),
    events: EVENTS,
    matchedRecords: matched,
    eventsPerSecond: Math.round(EVENTS / (matchMs / 1000)),
    eventsPerCpuSecond: Math.round(EVENTS / (cpuMs / 1000)),
    loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    node: process.version,
  }),
);
