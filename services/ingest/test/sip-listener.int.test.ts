// A real SIPp call (uac → relay → uas on 127.0.0.1) whose signalling the relay mirrors to the
// SIP listener, over UDP and over TCP.

import { freePort, killAllSipp, type Relay, runSipp, tcpRelay, udpRelay, waitFor } from '@li/testing/sip';
import { afterEach, describe, expect, it } from 'vitest';
import { type SipListener, startSipListener } from '../src/adapters/sip-listener.ts';
import type { DecodedEvent, DecodeProblem } from '../src/domain/stream.ts';

let listener: SipListener | null = null;
let relay: Relay | null = null;

afterEach(async () => {
  killAllSipp();
  await relay?.close();
  await listener?.close();
  relay = null;
  listener = null;
});

const SERVICE = '+390612345678';

function summary(events: DecodedEvent[]) {
  return events.map((e) => (e.action === 'sip.response' ? `${e.attributes.status} ${e.attributes.method}` : e.action));
}

function checkCall(events: DecodedEvent[], ruriPort: number) {
  const invite = events.find((e) => e.action === 'sip.invite');
  expect(invite).toBeDefined();
  if (!invite) return;
  const callId = invite.communicationId;
  expect(callId).not.toBe('');
  expect(events.every((e) => e.communicationId === callId)).toBe(true);
  expect(invite.attributes['request-uri']).toBe(`sip:${SERVICE}@127.0.0.1:${ruriPort}`);
  expect(invite.parties).toEqual(
    expect.arrayContaining([
      { role: 'CALLER', type: 'SIP_URI', value: 'sip:sipp@127.0.0.1' },
      { role: 'CALLEE', type: 'SIP_URI', value: `sip:${SERVICE}@127.0.0.1` },
      { role: 'CALLEE', type: 'E164', value: SERVICE },
    ]),
  );
  expect(invite.attributes.from).toMatch(/<sip:sipp@127\.0\.0\.1:\d+>;tag=/);
  expect(invite.content?.toString('latin1')).toMatch(/^INVITE sip:/);
  expect(invite.contentType).toBe('application/sip');
  const ringing = events.find((e) => e.attributes.status === '180');
  expect(ringing?.parties).toEqual(
    expect.arrayContaining([{ role: 'CALLER', type: 'SIP_URI', value: 'sip:sipp@127.0.0.1' }]),
  );
}

async function call(transport: 'u1' | 't1', kind: 'udp' | 'tcp') {
  const events: DecodedEvent[] = [];
  const problems: DecodeProblem[] = [];
  listener = await startSipListener({
    host: '127.0.0.1',
    ...(kind === 'udp' ? { udpPort: 0 } : { tcpPort: 0 }),
    onEvent: (e) => events.push(e),
    onProblem: (p) => problems.push(p),
  });
  const mirrorPort = (kind === 'udp' ? listener.udpPort : listener.tcpPort) as number;
  const uasPort = await freePort(kind);
  const uas = runSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-t', transport, '-m', '1']);
  await new Promise((r) => setTimeout(r, 300));
  relay = kind === 'udp' ? await udpRelay(uasPort, mirrorPort) : await tcpRelay(uasPort, mirrorPort);
  const uacPort = await freePort(kind);
  const uac = runSipp([
    '-sn',
    'uac',
    `127.0.0.1:${relay.port}`,
    '-i',
    '127.0.0.1',
    '-p',
    String(uacPort),
    '-t',
    transport,
    '-s',
    SERVICE,
    '-m',
    '1',
  ]);
  const r = await uac.done;
  expect(r.output).toMatch(/Successful call\s+\|\s+\d+\s+\|\s+1\b/);
  // The UAS lingers on its own timers; afterEach kills it.
  void uas.done;
  await waitFor(() => events.length >= 6);
  await new Promise((res) => setTimeout(res, 100));
  return { events, problems, relayPort: relay.port };
}

describe('SIP listener with a real SIPp call', () => {
  it('decodes the mirrored UDP call', async () => {
    const { events, problems, relayPort } = await call('u1', 'udp');
    expect(problems).toEqual([]);
    expect(summary(events)).toEqual(['sip.invite', '180 INVITE', '200 INVITE', 'sip.ack', 'sip.bye', '200 BYE']);
    expect(events.every((e) => e.network?.transport === 'udp')).toBe(true);
    checkCall(events, relayPort);
  });

  it('decodes the mirrored TCP call (one stream per direction)', async () => {
    const { events, problems, relayPort } = await call('t1', 'tcp');
    expect(problems).toEqual([]);
    const s = summary(events);
    expect(s.filter((x) => x.startsWith('sip.'))).toEqual(['sip.invite', 'sip.ack', 'sip.bye']);
    expect(s.filter((x) => !x.startsWith('sip.'))).toEqual(['180 INVITE', '200 INVITE', '200 BYE']);
    expect(events.every((e) => e.network?.transport === 'tcp')).toBe(true);
    checkCall(events, relayPort);
  });
});
