// A warrant activated, extended or ended through admf's API changes what target-match tags,
// across the real broker, within a second. Probe events for the target are published every
// 25 ms; the test times when matching starts and stops relative to the API's answer.

import { admfService } from '@li/admf/service';
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { MatchedEvent, NormalizedEvent } from '@li/schemas';
import { sampleEvent } from '@li/schemas/testing';
import { targetMatchService } from '@li/target-match/service';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, baseEnv, TOKENS, tokensFile } from './harness.ts';

let bus: Bus;
beforeAll(async () => {
  const infra = testInfra();
  bus = await createBus({ ...infra, clientId: 'e2e-warrants' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const iso = (ms: number) => new Date(ms).toISOString();
const ITALIAN = {
  proceedingNumber: '1234/2026 RGNR',
  ritNumber: '567/2026',
  judge: 'GIP Tribunale di Roma',
  authorisedOfficers: ['Isp. Rossi'],
  operator: 'Acme Telecom',
  interceptionType: 'TELEFONICA',
};

describe('warrant changes through admf reach target-match', () => {
  it('activation, extension and deactivation take effect within a second', async () => {
    const tenant = uniqueTenant('e2e');
    const admf = await startService(
      admfService,
      await baseEnv('admf', [tenant], {
        LI_HTTP__HOST: '127.0.0.1',
        LI_HTTP__PORT: '0',
        LI_TOKENS_FILE: tokensFile(tenant),
      }),
    );
    const call = api(admf.ports.http!);
    let tgm: Awaited<ReturnType<typeof startService>> | undefined;
    let probing = true;
    try {
      expect(
        (await call(TOKENS.op, 'POST', '/tenants', { id: tenant, name: 'E2E', defaultCountryCode: '39' })).status,
      ).toBe(201);
      const lemf = await call(TOKENS.admin, 'PUT', `/tenants/${tenant}/lemfs/lemf-rome`, {
        name: 'Rome',
        transport: 'ETSI_TCP',
        address: { host: '127.0.0.1', port: 16000 },
        allowInsecure: true,
      });
      expect(lemf.status).toBe(200);
      tgm = await startService(targetMatchService, await baseEnv('target-match', [tenant], { LI_TENANTS: tenant }));

      // Probes: one event every 25 ms for each of two targets, each remembering when it was sent.
      const eventsTopic = topicName(tenant, 'events');
      const codec = await bus.codec<NormalizedEvent>(eventsTopic, 'NormalizedEvent');
      const sentAt = new Map<string, number>();
      let n = 0;
      const probe = async () => {
        while (probing) {
          const batch = [];
          for (const number of ['+390611111111', '+390622222222']) {
            const id = `p${n++}`;
            sentAt.set(id, Date.now());
            const e = sampleEvent({
              tenant,
              eventId: id,
              occurredAtMicros: Date.now() * 1000,
              parties: [{ role: 'CALLEE', type: 'E164', value: number }],
            });
            batch.push({ topic: eventsTopic, key: id, value: await codec.encode(e) });
          }
          await bus.send(batch);
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      const probes = probe();
      const matchedCodec = await bus.codec<MatchedEvent>(topicName(tenant, 'matched'), 'MatchedEvent');
      const matched = async () =>
        Promise.all(
          (await readTopic(bus.kafka, topicName(tenant, 'matched'))).map((r) => matchedCodec.decode(r.value)),
        );
      const warrant = (liid: string, number: string, untilMs: number) => ({
        liid,
        authorisationCountry: 'IT',
        courtCaseId: 'RG-2026-42',
        italian: ITALIAN,
        interceptionKind: 'VOICE',
        targets: [{ type: 'E164', value: number }],
        selection: { signals: true },
        deliver: 'IRI_ONLY',
        lemfIds: ['lemf-rome'],
        validFrom: iso(Date.now() - 60_000),
        validUntil: iso(untilMs),
      });

      // Activation: the first probe sent after the API answered must be tagged, quickly.
      const created = await call(
        TOKENS.prov,
        'POST',
        `/tenants/${tenant}/warrants`,
        warrant('LIIDA', '0611111111', Date.now() + 86_400_000),
      );
      expect(created.status).toBe(201);
      const activatedAt = Date.now();
      const firstMatch = await waitFor(
        async () => (await matched()).find((m) => m.liid === 'LIIDA' && sentAt.get(m.event.eventId)! >= activatedAt),
        { what: 'the first tagged probe', timeoutMs: 10_000, intervalMs: 100 },
      );
      const activation = sentAt.get(firstMatch.event.eventId)! - activatedAt;

      // Extension: a warrant ending in 3 s, extended now, keeps matching after its original end.
      const shortEnd = Date.now() + 3000;
      expect(
        (await call(TOKENS.prov, 'POST', `/tenants/${tenant}/warrants`, warrant('LIIDB', '0622222222', shortEnd)))
          .status,
      ).toBe(201);
      const extended = await call(TOKENS.prov, 'POST', `/tenants/${tenant}/warrants/IT/LIIDB/extend`, {
        validUntil: iso(Date.now() + 86_400_000),
      });
      expect(extended.status, JSON.stringify(extended.json)).toBe(200);
      await waitFor(
        async () => (await matched()).some((m) => m.liid === 'LIIDB' && sentAt.get(m.event.eventId)! > shortEnd + 500),
        {
          what: 'tagging after the original end',
          timeoutMs: 10_000,
          intervalMs: 200,
        },
      );

      // Deactivation: probes sent more than a second after the API answered are never tagged.
      const deactivated = await call(TOKENS.prov, 'POST', `/tenants/${tenant}/warrants/IT/LIIDA/deactivate`, {});
      expect(deactivated.status, JSON.stringify(deactivated.json)).toBe(200);
      const deactivatedAt = Date.now();
      await new Promise((r) => setTimeout(r, 2500));
      probing = false;
      await probes;
      await new Promise((r) => setTimeout(r, 1000));
      const afterEnd = (await matched())
        .filter((m) => m.liid === 'LIIDA')
        .map((m) => sentAt.get(m.event.eventId)! - deactivatedAt);
      const lastTagged = Math.max(...afterEnd);
      console.log(`warrant propagation: activation ${activation} ms, deactivation ≤ ${Math.max(0, lastTagged)} ms`);
      expect(activation).toBeLessThan(1000);
      expect(lastTagged).toBeLessThan(1000);
    } finally {
      probing = false;
      await tgm?.stop();
      await admf.stop();
    }
  });
});
