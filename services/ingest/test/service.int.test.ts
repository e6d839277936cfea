// ingest wired to the real broker: what the SIP listener and the mail-event endpoint decode
// arrives in li.<t>.events as Avro NormalizedEvents keyed by communication; what they cannot
// decode arrives in li.<t>.dlq with the reason, and the adapters keep going.
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { NormalizedEvent } from '@li/schemas';
import { memoryLogger, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestService } from '../src/service.ts';
import { invite } from '../src/testing/sip-messages.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'ingest-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const MAIL_TOKEN = 'ingest-mailserver-token-int';

describe('ingest on the real broker', () => {
  it('publishes decoded SIP and mail events and sends what it cannot decode to the DLQ', async () => {
    const tenant = uniqueTenant('ing');
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'ingest-tokens-')), 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ [MAIL_TOKEN]: { subject: 'mx', tenant, role: 'mailserver' } }));
    const svc = await startService(
      ingestService,
      await serviceEnv('ingest', [tenant], {
        LI_TENANT: tenant,
        LI_TOKENS_FILE: tokensFile,
        LI_SIP__HOST: '127.0.0.1',
        LI_SIP__UDP_PORT: '0',
        LI_SIP__TCP_PORT: '0',
        // No LI_MAIL_EVENTS__HOST: the endpoint binds to loopback by default.
        LI_MAIL_EVENTS__PORT: '0',
      }),
    );
    const sipPort = svc.ports.sipUdp!;
    const mailPort = svc.ports.mailEvents!;
    try {
      const udp = createSocket('udp4');
      const send = (b: Buffer) => new Promise<void>((r) => udp.send(b, sipPort, '127.0.0.1', () => r()));
      await send(invite());
      await send(Buffer.from('INVITE this is not\r\nSIP at all'));
      udp.close();
      const post = (body: unknown, host = '127.0.0.1') =>
        fetch(`http://${host}:${mailPort}/ingest/mail-events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${MAIL_TOKEN}` },
          body: JSON.stringify(body),
        });
      // Not reachable on the machine's other addresses (where it has any).
      const external = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a && !a.internal && a.family === 'IPv4')
        .map((a) => a!.address);
      for (const host of external) {
        await expect(post({}, host), host).rejects.toThrow();
      }
      const ok = await post({
        account: 'bob@example.net',
        time: '2026-01-02T03:04:05.5Z',
        protocol: 'imap',
        type: 'login',
      });
      expect(ok.status).toBe(200);
      const bad = await post({ account: 'bob@example.net', time: 'yesterday', type: 'login' });
      expect(bad.status).toBe(400);

      const topic = topicName(tenant, 'events');
      const records = await waitFor(
        async () => {
          const r = await readTopic(bus.kafka, topic);
          return r.length >= 2 ? r : undefined;
        },
        { what: 'two events', intervalMs: 200 },
      );
      const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
      const events = await Promise.all(records.map((r) => codec.decode(r.value)));
      const sip = events.find((e) => e.protocol === 'SIP')!;
      expect(sip).toMatchObject({ tenant, source: 'sip', category: 'SIGNALS', action: 'sip.invite' });
      expect(records.find((r) => r.key === sip.communicationId)).toBeDefined();
      const mail = events.find((e) => e.source === 'mail-events')!;
      expect(mail).toMatchObject({ tenant, category: 'LOGIN' });
      expect(mail.parties).toContainEqual(expect.objectContaining({ type: 'MAIL_ACCOUNT' }));

      const dlq = await waitFor(
        async () => {
          const r = await readTopic(bus.kafka, topicName(tenant, 'dlq'));
          return r.length >= 2 ? r : undefined;
        },
        { what: 'two DLQ records', intervalMs: 200 },
      );
      const sources = dlq.map((r) => r.headers['li.dlq.source']).sort();
      expect(sources).toEqual(['ingest/mail-events', 'ingest/sip']);
      expect(dlq.every((r) => (r.headers['li.dlq.reason'] ?? '').length > 0)).toBe(true);
      // Nothing a target said or was called appears in the DLQ reasons.
      expect(JSON.stringify(dlq.map((r) => r.headers))).not.toContain('bob@example.net');
    } finally {
      await svc.stop();
    }
  }, 60_000);

  it('refuses to start the mail-event endpoint without a token file', async () => {
    const tenant = uniqueTenant('ing');
    const env = await serviceEnv('ingest', [tenant], {
      LI_TENANT: tenant,
      LI_SIP__ENABLED: 'false',
      LI_MAIL_EVENTS__PORT: '0',
    });
    await expect(startService(ingestService, env)).rejects.toThrow(/tokensFile \(env LI_TOKENS_FILE\)/);
  });
});
