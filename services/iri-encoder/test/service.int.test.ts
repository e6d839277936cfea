// iri-encoder on the real broker: MatchedEvents in, ETSI records out on li.<t>.hi2/hi3 with
// LIID/CIN/sequence headers, decodable by our codec; counters in li.<t>.encoder-state, so a
// restarted encoder continues the sequence numbers without a gap or a repeat.
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { decodePsPdu } from '@li/etsi';
import { startService } from '@li/runtime';
import type { LemfDestination, MatchedEvent } from '@li/schemas';
import { sampleEvent, sampleLemf, sampleMatched } from '@li/schemas/testing';
import { memoryLogger, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iriEncoderService } from '../src/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'enc-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

function sip(
  tenant: string,
  callId: string,
  action: string,
  method: string,
  status?: string,
  occurredAtMicros?: number,
): MatchedEvent {
  return sampleMatched({
    tenant,
    authorisationCountry: 'DE', // not an Italian warrant: PS-PDUs only
    event: sampleEvent({
      tenant,
      eventId: `${callId}-${action}-${status ?? ''}${occurredAtMicros === undefined ? '' : `-${occurredAtMicros}`}`,
      communicationId: callId,
      ...(occurredAtMicros === undefined ? {} : { occurredAtMicros }),
      action,
      attributes: { method, ...(status ? { status } : {}) },
    }),
  });
}

describe('iri-encoder on the real broker', () => {
  it('encodes matched events to HI2/HI3 with gap-free sequence numbers across a restart', async () => {
    const tenant = uniqueTenant('enc');
    const env = await serviceEnv('iri-encoder', [tenant], { LI_TENANTS: tenant, LI_OPERATOR_IDENTIFIER: 'OP1' });
    await bus.ensureTopics(tenant, ['matched', 'hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq']);
    const topic = topicName(tenant, 'matched');
    const codec = await bus.codec<MatchedEvent>(topic, 'MatchedEvent');
    const publish = async (events: MatchedEvent[]) =>
      bus.send(await Promise.all(events.map(async (m) => ({ topic, key: m.liid, value: await codec.encode(m) }))));
    const hi2 = async () => readTopic(bus.kafka, topicName(tenant, 'hi2'));

    let svc = await startService(iriEncoderService, env);
    try {
      await publish([
        sip(tenant, 'call-1', 'sip.invite', 'INVITE'),
        sip(tenant, 'call-1', 'sip.response', 'INVITE', '180'),
      ]);
      await waitFor(async () => (await hi2()).length >= 2, { what: 'two IRIs', timeoutMs: 20_000, intervalMs: 200 });
    } finally {
      await svc.stop();
    }
    svc = await startService(iriEncoderService, env);
    try {
      await publish([
        sip(tenant, 'call-1', 'sip.response', 'INVITE', '200'),
        sip(tenant, 'call-1', 'sip.bye', 'BYE'),
        sip(tenant, 'call-1', 'sip.response', 'BYE', '200'),
      ]);
      await waitFor(async () => (await hi2()).length >= 5, { what: 'five IRIs', timeoutMs: 20_000, intervalMs: 200 });
    } finally {
      await svc.stop();
    }

    const records = await hi2();
    expect(records).toHaveLength(5);
    const decoded = records.map((r) => {
      const d = decodePsPdu(r.value!);
      if (!d.ok) throw new Error(d.reason);
      return { header: d.value.header, headers: r.headers };
    });
    // One communication, one CIN; sequence numbers 0..4 across the restart; headers agree with the PDUs.
    const cins = new Set(decoded.map((d) => d.header.communicationIdentifier.cin));
    expect(cins.size).toBe(1);
    expect(decoded.map((d) => d.header.sequenceNumber)).toEqual([0, 1, 2, 3, 4]);
    for (const d of decoded) {
      expect(d.headers['li.liid']).toBe(d.header.liid);
      expect(Number(d.headers['li.seq'])).toBe(d.header.sequenceNumber);
      expect(d.headers['li.lemfs']).toBe('lemf-rome');
    }
    // The call ends with the 200 OK to BYE: IRI-END when the session is released.
    expect(decoded.map((d) => d.headers['li.iri-type'])).toEqual(['BEGIN', 'CONTINUE', 'CONTINUE', 'CONTINUE', 'END']);
    expect((await readTopic(bus.kafka, topicName(tenant, 'encoder-state'))).length).toBeGreaterThan(0);
  }, 90_000);

  it('reads the LEMF directory before its first batch: an event waiting at start gets its e-mail report', async () => {
    // The directory's tail reads li.<t>.lemfs while the processor joins its group; no batch may
    // be encoded before it has read every LEMF, or this report would be lost.
    const tenant = uniqueTenant('enc');
    const env = await serviceEnv('iri-encoder', [tenant], { LI_TENANTS: tenant, LI_OPERATOR_IDENTIFIER: 'OP1' });
    await bus.ensureTopics(tenant, ['matched', 'hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq']);
    const lemfTopic = topicName(tenant, 'lemfs');
    const lemfCodec = await bus.codec<LemfDestination>(lemfTopic, 'LemfDestination');
    const lemf = sampleLemf({
      id: 'lemf-mail',
      tenant,
      transport: 'EMAIL',
      email: {
        from: 'li@mediation.invalid',
        to: ['lea@lemf.invalid'],
        username: null,
        credentialRef: null,
        startTls: true,
      },
    });
    await bus.send([{ topic: lemfTopic, key: lemf.id, value: await lemfCodec.encode(lemf) }]);
    const topic = topicName(tenant, 'matched');
    const codec = await bus.codec<MatchedEvent>(topic, 'MatchedEvent');
    const login = sampleMatched({
      tenant,
      lemfIds: ['lemf-mail'],
      authorisationCountry: 'DE',
      matchedRoles: ['ACCOUNT'],
      event: sampleEvent({
        tenant,
        eventId: 'login-1',
        communicationId: 'imap-1',
        category: 'LOGIN',
        action: 'imap.login',
        protocol: 'IMAP',
        parties: [{ role: 'ACCOUNT', type: 'EMAIL', value: 'alice@example.org' }],
      }),
    });
    await bus.send([{ topic, key: login.liid, value: await codec.encode(login) }]);

    const svc = await startService(iriEncoderService, env);
    try {
      await waitFor(async () => (await readTopic(bus.kafka, topicName(tenant, 'hi2'))).length >= 1, {
        what: 'the IRI',
        timeoutMs: 20_000,
        intervalMs: 200,
      });
    } finally {
      await svc.stop();
    }
    const reports = await readTopic(bus.kafka, topicName(tenant, 'reports'));
    expect(reports).toHaveLength(1);
    expect(reports[0]?.value?.toString('utf8')).toContain('lea@lemf.invalid');
  }, 90_000);

  it('tombstones an ended communication after its retention; a restart does not restore it; its id gets a new CIN', async () => {
    const tenant = uniqueTenant('enc');
    const env = await serviceEnv('iri-encoder', [tenant], { LI_TENANTS: tenant, LI_OPERATOR_IDENTIFIER: 'OP1' });
    await bus.ensureTopics(tenant, ['matched', 'hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq']);
    const topic = topicName(tenant, 'matched');
    const codec = await bus.codec<MatchedEvent>(topic, 'MatchedEvent');
    const publish = async (events: MatchedEvent[]) =>
      bus.send(await Promise.all(events.map(async (m) => ({ topic, key: m.liid, value: await codec.encode(m) }))));
    const hi2 = async () => readTopic(bus.kafka, topicName(tenant, 'hi2'));
    const t0 = 1_795_300_000_000_000;

    let svc = await startService(iriEncoderService, env);
    try {
      await publish([
        sip(tenant, 'call-1', 'sip.invite', 'INVITE', undefined, t0),
        sip(tenant, 'call-1', 'sip.response', 'BYE', '200', t0 + 1),
        // 120 s later (default retention 60 s): the batch of this event sweeps call-1 away.
        sip(tenant, 'call-2', 'sip.invite', 'INVITE', undefined, t0 + 120e6),
      ]);
      await waitFor(async () => (await hi2()).length >= 3, { what: 'three IRIs', timeoutMs: 20_000, intervalMs: 200 });
    } finally {
      await svc.stop();
    }
    const changelog = await readTopic(bus.kafka, topicName(tenant, 'encoder-state'));
    const deleted = changelog.filter((r) => r.value === null).map((r) => r.key);
    expect(deleted).toEqual(expect.arrayContaining([expect.stringMatching(/^LIID0001\/comm\//), 'LIID0001/seq/1']));

    svc = await startService(iriEncoderService, env);
    try {
      await publish([sip(tenant, 'call-1', 'sip.invite', 'INVITE', undefined, t0 + 130e6)]);
      await waitFor(async () => (await hi2()).length >= 4, { what: 'four IRIs', timeoutMs: 20_000, intervalMs: 200 });
    } finally {
      await svc.stop();
    }
    const got = (await hi2()).map((r) => [r.headers['li.cin'], r.headers['li.seq'], r.headers['li.iri-type']]);
    // call-1 again after expiry: CIN 3 from the kept counter, numbered from 0, not CIN 1 seq 2.
    expect(got).toEqual([
      ['1', '0', 'BEGIN'],
      ['1', '1', 'END'],
      ['2', '0', 'BEGIN'],
      ['3', '0', 'BEGIN'],
    ]);
  }, 90_000);

  it('dead-letters a MatchedEvent of another tenant and encodes the rest of the batch', async () => {
    const tenant = uniqueTenant('enc');
    const other = uniqueTenant('oth');
    const env = await serviceEnv('iri-encoder', [tenant], { LI_TENANTS: tenant, LI_OPERATOR_IDENTIFIER: 'OP1' });
    await bus.ensureTopics(tenant, ['matched', 'warrants', 'hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq']);
    const topic = topicName(tenant, 'matched');
    const codec = await bus.codec<MatchedEvent>(topic, 'MatchedEvent');
    const foreign = sip(other, 'call-x', 'sip.invite', 'INVITE');
    const inner = {
      ...sip(tenant, 'call-y', 'sip.invite', 'INVITE'),
      event: sip(other, 'call-y', 'sip.invite', 'INVITE').event,
    };
    const batch = [
      sip(tenant, 'call-1', 'sip.invite', 'INVITE'),
      foreign,
      inner,
      sip(tenant, 'call-2', 'sip.invite', 'INVITE'),
    ];
    await bus.send(await Promise.all(batch.map(async (m) => ({ topic, key: m.liid, value: await codec.encode(m) }))));

    const svc = await startService(iriEncoderService, env);
    try {
      const dlq = await waitFor(
        async () => {
          const recs = await readTopic(bus.kafka, topicName(tenant, 'dlq'));
          return recs.length >= 2 ? recs : undefined;
        },
        { what: 'two dead letters', timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(dlq.map((r) => r.headers['li.dlq.code'])).toEqual(['ENC_ERR_TENANT_MISMATCH', 'ENC_ERR_TENANT_MISMATCH']);
      expect(dlq.map((r) => r.headers['li.dlq.reason'])).toEqual([
        'MatchedEvent tenant differs from its topic',
        'event tenant differs from its topic',
      ]);
      const hi2 = await waitFor(
        async () => {
          const recs = await readTopic(bus.kafka, topicName(tenant, 'hi2'));
          return recs.length >= 2 ? recs : undefined;
        },
        { what: 'IRIs of the two good events', timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(hi2.map((r) => r.headers['li.event-id'])).toEqual(['call-1-sip.invite-', 'call-2-sip.invite-']);
    } finally {
      await svc.stop();
    }
  }, 60_000);
});
