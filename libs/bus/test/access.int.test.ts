// Tenant isolation enforced by the broker: the local Kafka authenticates every client (SCRAM over
// TLS) and authorises every request by ACL. Each service connects as its own principal with the
// grants the access description gives a deployment; these tests try the doors between tenants.
import { localSecurity, memoryLogger, testInfra, uniqueTenant, waitFor, within } from '@li/testing';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyGrants,
  type Bus,
  createBus,
  deploymentGrants,
  deploymentGroupId,
  EXACTLY_ONCE_PRODUCER,
  type Grant,
  grantMentionsTenant,
  kafkaSecurityOptions,
  readTopic,
  revokeTenant,
  topicName,
} from '../src/index.ts';

const { log } = memoryLogger();
let bus: Bus;
const A = uniqueTenant('a');
const B = uniqueTenant('b');

/** A client connected as one of the local infra's principals; `seen` collects the error types kafkajs logs. */
function kafkaAs(principal: string, seen?: Set<string>): Kafka {
  return new Kafka({
    clientId: `access-test-${principal}`,
    brokers: testInfra().brokers,
    ...kafkaSecurityOptions(localSecurity(principal)),
    logLevel: seen ? logLevel.DEBUG : logLevel.NOTHING,
    // kafkajs turns a refused FindCoordinator into "Failed to find group coordinator" and only
    // logs the broker's reason, at debug level: keep it to show which refusal it was.
    logCreator: () => (entry) => {
      const type = (entry.log as { error?: { type?: string } }).error?.type;
      if (seen && type) seen.add(type);
    },
    retry: { retries: 0 },
  });
}

const NOT_AUTHORISED = /not authorized/i;

async function produceAs(principal: string, topic: string): Promise<void> {
  const producer = kafkaAs(principal).producer(EXACTLY_ONCE_PRODUCER);
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'v' }] });
  } finally {
    await producer.disconnect();
  }
}

/** Joins `groupId` reading `topic`; resolves with the error that stopped the consumer, if any. */
async function joinAs(
  principal: string,
  groupId: string,
  topic: string,
  seen?: Set<string>,
): Promise<Error | 'joined'> {
  const consumer = kafkaAs(principal, seen).consumer({ groupId, retry: { retries: 0 } });
  await consumer.connect();
  try {
    const outcome = new Promise<Error | 'joined'>((resolve) => {
      consumer.on(consumer.events.CRASH, (e) => resolve(e.payload.error));
      consumer.on(consumer.events.GROUP_JOIN, () => resolve('joined'));
    });
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    return await within(20_000, `consumer of ${groupId}`, outcome);
  } finally {
    await consumer.disconnect().catch(() => {});
  }
}

beforeAll(async () => {
  bus = await createBus({ ...testInfra(), clientId: 'access-test' }, log);
  for (const t of [A, B]) await bus.ensureTopics(t, ['events', 'warrants', 'hi2', 'dlq', 'matched', 'lemfs']);
  const admin = await bus.admin();
  // Tenant A is onboarded for ingest, cc-delivery and target-match; B for nobody.
  await applyGrants(admin, 'li-ingest', deploymentGrants('ingest', [A]));
  await applyGrants(admin, 'li-cc-delivery', deploymentGrants('cc-delivery', [A]));
  await applyGrants(admin, 'li-target-match', deploymentGrants('target-match', [A]));
  // Something to read in B's topics.
  await bus.send([{ topic: topicName(B, 'hi2'), key: 'x', value: Buffer.from('secret of B') }]);
});
afterAll(async () => {
  await bus?.close();
});

describe('Kafka enforces tenant isolation', () => {
  it("tenant A's ingest may write A's events, and neither B's events nor A's warrants", async () => {
    await produceAs('li-ingest', topicName(A, 'events'));
    await expect(produceAs('li-ingest', topicName(B, 'events'))).rejects.toThrow(NOT_AUTHORISED);
    await expect(readTopic(kafkaAs('li-ingest'), topicName(A, 'warrants'))).rejects.toThrow(NOT_AUTHORISED);
    // Only the two records the admin and A's ingest wrote are in A's events.
    expect(await readTopic(bus.kafka, topicName(A, 'events'))).toHaveLength(1);
  });

  it("cc-delivery for tenant A cannot read B's HI2", async () => {
    await expect(readTopic(kafkaAs('li-cc-delivery'), topicName(B, 'hi2'))).rejects.toThrow(NOT_AUTHORISED);
    // …while A's own HI2 reads (empty, but authorised).
    expect(await readTopic(kafkaAs('li-cc-delivery'), topicName(A, 'hi2'))).toEqual([]);
  });

  it("a consumer of tenant A cannot join B's groups", async () => {
    const own = await joinAs('li-target-match', deploymentGroupId('target-match', [A]), topicName(A, 'events'));
    expect(own).toBe('joined');
    const seen = new Set<string>();
    const other = await joinAs('li-target-match', deploymentGroupId('target-match', [B]), topicName(A, 'events'), seen);
    expect(other).toBeInstanceOf(Error);
    expect([...seen]).toContain('GROUP_AUTHORIZATION_FAILED');
    const seenLemf = new Set<string>();
    const lemfGroup = await joinAs('li-cc-delivery', `li.cc-delivery.${B}.lemf-1`, topicName(A, 'hi2'), seenLemf);
    expect(lemfGroup).toBeInstanceOf(Error);
    expect([...seenLemf]).toContain('GROUP_AUTHORIZATION_FAILED');
  });

  it('refuses a client without credentials and a wrong password', async () => {
    const anonymous = new Kafka({
      clientId: 'anon',
      brokers: testInfra().brokers,
      ssl: kafkaSecurityOptions(localSecurity('admin')).ssl!,
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 3000,
    }).admin();
    // TLS without SASL: the broker expects a SASL handshake and drops the connection.
    await expect(
      within(
        20_000,
        'anonymous connect',
        anonymous.connect().then(() => anonymous.listTopics()),
      ),
    ).rejects.toThrow();
    await anonymous.disconnect().catch(() => {});
    const wrong = new Kafka({
      clientId: 'wrong',
      brokers: testInfra().brokers,
      ssl: kafkaSecurityOptions(localSecurity('admin')).ssl!,
      sasl: { mechanism: 'scram-sha-512', username: 'li-ingest', password: 'not-the-password' },
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
    }).admin();
    await expect(wrong.connect()).rejects.toThrow(/authentication/i);
  });

  it("removing a tenant revokes every principal's access to it", async () => {
    const t = uniqueTenant('gone');
    await bus.ensureTopics(t, ['events', 'dlq']);
    const admin = await bus.admin();
    const granted: Record<string, Grant[]> = {
      'li-ingest': deploymentGrants('ingest', [t]),
      'li-target-match': deploymentGrants('target-match', [A, t]),
    };
    for (const [principal, grants] of Object.entries(granted)) await applyGrants(admin, principal, grants);
    await produceAs('li-ingest', topicName(t, 'events'));
    const revoked = await revokeTenant(admin, t);
    // Every ACL (principal, resource, operation) whose resource names t: t's topics, and
    // target-match's group and transactional ids, whose names list its deployment's tenants.
    const naming = new Set<string>();
    for (const [principal, grants] of Object.entries(granted))
      for (const g of grants)
        if (grantMentionsTenant(g, t))
          for (const op of g.operations) naming.add(`${principal} ${g.resource} ${g.pattern} ${g.name} ${op}`);
    expect(naming.size).toBeGreaterThan(10);
    expect(revoked).toBe(naming.size);
    await waitFor(
      async () =>
        produceAs('li-ingest', topicName(t, 'events')).then(
          () => false,
          (err: Error) => NOT_AUTHORISED.test(err.message),
        ),
      { what: 'revocation in force', timeoutMs: 10_000 },
    );
    // A's own grants are untouched.
    await produceAs('li-ingest', topicName(A, 'events'));
  });
});
