// Onboarding and removing a tenant with the documented command (npm run kafka:access), and a new
// principal's SCRAM credentials made on the running broker (infra.sh user), as an operator would.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EXACTLY_ONCE_PRODUCER, kafkaSecurityOptions, topicName } from '@li/bus';
import { adminClient, localSecurity, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = join(import.meta.dirname, '../..');
const kafkaAccess = (...args: string[]) =>
  run(process.execPath, [join(root, 'scripts/kafka-access.ts'), ...args], { cwd: root, env: process.env });

async function produceAs(principal: string, topic: string): Promise<void> {
  const producer = new Kafka({
    clientId: 'onboarding-test',
    brokers: testInfra().brokers,
    ...kafkaSecurityOptions(localSecurity(principal)),
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
  }).producer(EXACTLY_ONCE_PRODUCER);
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ value: 'v' }] });
  } finally {
    await producer.disconnect();
  }
}

const refused = (p: Promise<unknown>) =>
  p.then(
    () => false,
    // Kafka refuses a topic it may not write, or an idempotent producer that may write nothing.
    (err: Error) => /not authorized|authorization failed/i.test(err.message),
  );

describe('tenant onboarding with one command', () => {
  it('tenant add grants the local deployments their ACLs; tenant remove revokes them', async () => {
    const t = uniqueTenant('onb');
    const admin = await adminClient();
    await admin.createTopics({ topics: [{ topic: topicName(t, 'events') }, { topic: topicName(t, 'dlq') }] });
    await admin.disconnect();
    expect(await refused(produceAs('li-ingest', topicName(t, 'events')))).toBe(true);

    const added = await kafkaAccess('tenant', 'add', t);
    expect(added.stdout).toMatch(new RegExp(`tenant ${t}: \\d+ ACLs`));
    await produceAs('li-ingest', topicName(t, 'events'));

    const removed = await kafkaAccess('tenant', 'remove', t);
    expect(removed.stdout).toMatch(new RegExp(`tenant ${t}: [1-9]\\d* ACLs revoked`));
    await waitFor(() => refused(produceAs('li-ingest', topicName(t, 'events'))), {
      what: 'revocation',
      timeoutMs: 10_000,
    });
  });

  it('user add makes a principal that authenticates and can do nothing until granted', async () => {
    const t = uniqueTenant('usr');
    const name = `li-ingest-${t}`;
    const admin = await adminClient();
    await admin.createTopics({ topics: [{ topic: topicName(t, 'events') }, { topic: topicName(t, 'dlq') }] });
    await admin.disconnect();
    await kafkaAccess('user', 'add', name);
    try {
      // SCRAM credentials propagate through the metadata log: wait until the new password works.
      await waitFor(() => refused(produceAs(name, topicName(t, 'events'))), { what: 'user known', timeoutMs: 20_000 });
      await kafkaAccess('grant', 'ingest', t, '--principal', name);
      await produceAs(name, topicName(t, 'events'));
    } finally {
      await kafkaAccess('revoke-principal', name);
      await kafkaAccess('user', 'remove', name);
    }
  }, 120_000);
});
