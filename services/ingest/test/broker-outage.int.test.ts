// A real broker outage: ingest runs against a private Kafka (its own run directory and ports, so
// the shared broker of the other tests is untouched), the broker is killed (SIGKILL), mail events
// posted meanwhile are accepted and spooled to disk, and once Kafka is back they all arrive in
// li.<t>.events, after the ones sent before the outage, in the order they were posted.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { NormalizedEvent } from '@li/schemas';
import { memoryLogger, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { privateInfra } from '@li/testing/private-infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestService } from '../src/service.ts';

// The private infra: LI_OUTAGE_* override where it lives; the defaults stay clear of the shared one.
const { sync: infra } = privateInfra({
  kafkaPort: Number(process.env.LI_OUTAGE_KAFKA_PORT ?? 19092),
  registryPort: Number(process.env.LI_OUTAGE_REGISTRY_PORT ?? 18081),
  runDir: process.env.LI_OUTAGE_INFRA_RUN ?? join(tmpdir(), 'li-ingest-outage-infra'),
});

const MAIL_TOKEN = 'ingest-outage-mailserver-token';
let bus: Bus;
beforeAll(async () => {
  infra('up');
  bus = await createBus({ ...testInfra(), clientId: 'ingest-outage-test' }, memoryLogger().log);
}, 240_000);
afterAll(async () => {
  await bus?.close();
  infra('down');
}, 120_000);

describe('ingest through a broker outage', () => {
  it('spools what arrives while Kafka is down and publishes it in order when Kafka returns', async () => {
    const tenant = uniqueTenant('outage');
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'ingest-tokens-')), 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ [MAIL_TOKEN]: { subject: 'mx', tenant, role: 'mailserver' } }));
    const spoolDir = mkdtempSync(join(tmpdir(), 'ingest-outage-spool-'));
    const svc = await startService(
      ingestService,
      await serviceEnv('ingest', [tenant], {
        LI_TENANT: tenant,
        LI_TOKENS_FILE: tokensFile,
        LI_SIP__ENABLED: 'false',
        LI_MAIL_EVENTS__PORT: '0',
        LI_SPOOL__DIRECTORY: spoolDir,
        LI_SPOOL__AFTER_MS: '1000',
      }),
    );
    let killed = false;
    try {
      // One session: one communication, one key, one partition, so Kafka keeps their order.
      const post = (i: number) =>
        fetch(`http://127.0.0.1:${svc.ports.mailEvents}/ingest/mail-events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${MAIL_TOKEN}` },
          body: JSON.stringify({
            type: 'mailbox.created',
            account: 'bob@example.net',
            time: 1_795_000_000 + i,
            protocol: 'imap',
            session: 'outage-1',
            mailbox: `box-${i}`,
          }),
        });
      for (let i = 0; i < 3; i++) expect((await post(i)).status).toBe(200);

      infra('kafka-kill');
      killed = true;
      for (let i = 3; i < 40; i++) expect((await post(i)).status).toBe(200);
      // Nothing acknowledges: the records are on disk.
      await waitFor(() => readdirSync(spoolDir).some((f) => f.endsWith('.seg')), {
        what: 'a spool segment',
        timeoutMs: 30_000,
      });
      infra('kafka-resume');
      infra('wait');
      killed = false;

      const topic = topicName(tenant, 'events');
      const records = await waitFor(
        async () => {
          const r = await readTopic(bus.kafka, topic);
          return r.length >= 40 ? r : undefined;
        },
        { what: '40 events', intervalMs: 500, timeoutMs: 120_000 },
      );
      const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
      const events = await Promise.all(records.map((r) => codec.decode(r.value)));
      expect(events.map((e) => e.attributes.mailbox)).toEqual(Array.from({ length: 40 }, (_, i) => `box-${i}`));
      // Drained: the spool deletes its segments once Kafka acknowledged them.
      await waitFor(() => !readdirSync(spoolDir).some((f) => f.endsWith('.seg')), { what: 'an empty spool' });
    } finally {
      if (killed) infra('kafka-resume');
      await svc.stop();
    }
  }, 300_000);
});
