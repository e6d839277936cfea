// iri-encoder on the real broker, issue #4 part A: warrant versions on li.<t>.warrants give HI1
// notifications on li.<t>.hi2 (activated, modified, deactivated; HI1 sequence 0, 1, 2 on CIN 0,
// across a restart, replays ignored), and an MSNP message captured on the wire gives IRI + IPCC
// with nothing in the DLQ. MatchedEvents carry matchedParties and courtCaseId through Avro.
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { decodePsPdu } from '@li/etsi';
import { startService } from '@li/runtime';
import type { MatchedEvent, Warrant } from '@li/schemas';
import { sampleEvent, sampleMatched, sampleWarrant } from '@li/schemas/testing';
import { memoryLogger, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iriEncoderService } from '../src/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'enc-hi1-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const STREAMS = ['matched', 'warrants', 'hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq'] as const;

function envFor(tenant: string): Promise<Record<string, string>> {
  return serviceEnv('iri-encoder', [tenant], { LI_TENANTS: tenant, LI_OPERATOR_IDENTIFIER: 'OP1' });
}

describe('iri-encoder: HI1 notifications and MSNP CC on the real broker', () => {
  it('warrant versions give liActivated, liModified, liDeactivated with HI1 sequence 0, 1, 2', async () => {
    const tenant = uniqueTenant('enchi1');
    await bus.ensureTopics(tenant, [...STREAMS]);
    const warrants = topicName(tenant, 'warrants');
    const codec = await bus.codec<Warrant>(warrants, 'Warrant');
    const at = 1_795_000_000_000_000;
    const version = (v: number, over: Partial<Warrant> = {}) =>
      sampleWarrant({ tenant, liid: 'LIHI1', version: v, updatedAtMicros: at + v * 1_000_000, ...over });
    const publish = async (ws: Warrant[]) =>
      bus.send(
        await Promise.all(
          ws.map(async (w) => ({
            topic: warrants,
            key: `${w.authorisationCountry}:${w.liid}`,
            value: await codec.encode(w),
          })),
        ),
      );
    const hi1 = async () =>
      (await readTopic(bus.kafka, topicName(tenant, 'hi2'))).filter((r) => r.headers['li.kind'] === 'HI1');
    const modified = {
      targets: [...sampleWarrant().targets, { id: 't2', type: 'EMAIL' as const, value: 'x@example.com' }],
    };

    let svc = await startService(iriEncoderService, await envFor(tenant));
    try {
      await publish([version(1), version(2, modified)]);
      await waitFor(async () => (await hi1()).length >= 2, {
        what: 'two HI1 PDUs',
        timeoutMs: 60_000,
        intervalMs: 250,
      });
    } finally {
      await svc.stop();
    }
    svc = await startService(iriEncoderService, await envFor(tenant));
    try {
      // A replay of version 2 gives nothing; version 3 moves the warrant to another LEMF and ends it.
      await publish([version(2, modified), version(3, { ...modified, state: 'DEACTIVATED', lemfIds: ['lemf-milan'] })]);
      await waitFor(async () => (await hi1()).length >= 3, {
        what: 'three HI1 PDUs',
        timeoutMs: 60_000,
        intervalMs: 250,
      });
    } finally {
      await svc.stop();
    }

    const records = await hi1();
    expect(records).toHaveLength(3);
    const decoded = records.map((r) => {
      const d = decodePsPdu(r.value!);
      if (!d.ok) throw new Error(d.reason);
      if (d.value.payload.kind !== 'hi1' || d.value.payload.operation.kind === 'other') throw new Error('not HI1');
      return { header: d.value.header, op: d.value.payload.operation, headers: r.headers };
    });
    expect(decoded.map((d) => d.op.kind)).toEqual(['liActivated', 'liModified', 'liDeactivated']);
    expect(decoded.map((d) => d.header.sequenceNumber)).toEqual([0, 1, 2]);
    expect(decoded.map((d) => d.header.communicationIdentifier.cin)).toEqual([0, 0, 0]);
    expect(decoded.map((d) => d.headers['li.seq'])).toEqual(['0', '1', '2']);
    expect(decoded.map((d) => d.headers['li.lemfs'])).toEqual(['lemf-rome', 'lemf-rome', 'lemf-rome,lemf-milan']);
    for (const d of decoded) {
      expect(d.headers).toMatchObject({ 'li.liid': 'LIHI1', 'li.cin': '0', 'li.format': 'TS102232', 'li.kind': 'HI1' });
      expect(d.op.notification.liid).toBe('LIHI1');
      expect(d.op.notification.communicationIdentifier).toEqual({ operatorIdentifier: 'OP1' });
    }
    expect(await readTopic(bus.kafka, topicName(tenant, 'dlq'))).toEqual([]);
  }, 180_000);

  it('an MSNP message gives IRI + IPCC and no DLQ record; matchedParties/courtCaseId survive Avro', async () => {
    const tenant = uniqueTenant('encmsnp');
    await bus.ensureTopics(tenant, [...STREAMS]);
    const topic = topicName(tenant, 'matched');
    const codec = await bus.codec<MatchedEvent>(topic, 'MatchedEvent');
    const payload = Buffer.from('MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nmeet at 5?');
    const sender = { role: 'SENDER' as const, type: 'EMAIL' as const, value: 'alice@hotmail.example' };
    const m = sampleMatched({
      tenant,
      liid: 'LIMSNP',
      authorisationCountry: 'DE',
      matchedRoles: ['SENDER'],
      matchedParties: [sender],
      courtCaseId: 'RG-9/2026',
      event: sampleEvent({
        tenant,
        eventId: 'msnp-msg-1',
        category: 'SIGNALS',
        action: 'msnp.msg',
        source: 'pcap',
        protocol: 'MSNP',
        communicationId: 'msnp:203.0.113.5:40000-192.0.2.1:1863:1',
        parties: [sender, { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@hotmail.example' }],
        network: {
          transport: 'tcp',
          srcAddress: '203.0.113.5',
          srcPort: 40000,
          dstAddress: '192.0.2.1',
          dstPort: 1863,
        },
        attributes: { msnpRole: 'switchboard', msnpDirection: 'toServer', ackType: 'N' },
        content: payload,
        contentType: 'application/x-msnp-msg',
      }),
    });
    const bytes = await codec.encode(m);
    expect(await codec.decode(bytes)).toMatchObject({ matchedParties: [sender], courtCaseId: 'RG-9/2026' });

    const svc = await startService(iriEncoderService, await envFor(tenant));
    try {
      await bus.send([{ topic, key: m.liid, value: bytes }]);
      await waitFor(async () => (await readTopic(bus.kafka, topicName(tenant, 'hi3'))).length >= 1, {
        what: 'the IPCC record',
        timeoutMs: 60_000,
        intervalMs: 250,
      });
    } finally {
      await svc.stop();
    }
    const iri = (await readTopic(bus.kafka, topicName(tenant, 'hi2'))).map((r) => decodePsPdu(r.value!));
    expect(iri).toHaveLength(1);
    const i = iri[0]!;
    if (!i.ok || i.value.payload.kind !== 'iri' || i.value.payload.items[0]!.contents.kind !== 'iPIRI') {
      throw new Error('not an IPIRI');
    }
    expect(i.value.payload.items[0]!.contents.value.contents.targetUsername).toBe('alice@hotmail.example');
    const cc = (await readTopic(bus.kafka, topicName(tenant, 'hi3'))).map((r) => decodePsPdu(r.value!));
    expect(cc).toHaveLength(1);
    const c = cc[0]!;
    if (!c.ok || c.value.payload.kind !== 'cc' || c.value.payload.items[0]!.contents.kind !== 'iPCC') {
      throw new Error('not an IPCC');
    }
    const contents = c.value.payload.items[0]!.contents.value.contents;
    if (contents.kind !== 'iPPackets') throw new Error('not iPPackets');
    const packet = Buffer.from(contents.packets);
    expect(packet[0]).toBe(0x45);
    expect(packet.subarray(40).equals(payload)).toBe(true); // the captured MSG payload, unchanged
    expect(c.value.header.communicationIdentifier.cin).toBe(i.value.header.communicationIdentifier.cin);
    expect(await readTopic(bus.kafka, topicName(tenant, 'dlq'))).toEqual([]);
  }, 180_000);
});
