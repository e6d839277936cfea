// admf's account-event follower on the real broker: each tenant has its own consumer group
// (<eventsGroupId>.<tenant>), so a tenant created after admf started is followed without
// disturbing the others; an update the broker refuses is retried (offset left in place) and
// written once; stop() right after a tenant creation does not wait for that tenant's join.
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { NormalizedEvent, Warrant } from '@li/schemas';
import { adminClient, memoryLogger, testInfra, uniqueTenant, waitFor, within } from '@li/testing';
import kafkajs, { type Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admfService } from '../src/service.ts';
import { accountEvent, admfClient, admfEnv } from './helpers/admf.ts';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

const infra = testInfra();
let bus: Bus;
let admin: Admin;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'admf-accounts-test' }, memoryLogger().log);
  admin = await adminClient('admf-accounts-test-admin');
});
afterAll(async () => {
  await admin?.disconnect();
  await bus?.close();
});

const OP = 'operator-admin-token-accounts1';
const prov = (t: string) => `provisioner-${t}-token`.padEnd(24, 'x');
const auditor = (t: string) => `auditor-${t}-token`.padEnd(24, 'x');

/** An admf of its own (fresh group prefix and instance) whose tokens cover `tenants`. */
async function startAdmf(tenants: readonly string[], extraEnv: Record<string, string> = {}) {
  const env = await admfEnv(
    tenants,
    {
      [OP]: { subject: 'op', tenant: '*', role: 'admin' },
      ...Object.fromEntries(tenants.map((t) => [prov(t), { subject: `p-${t}`, tenant: t, role: 'provisioner' }])),
      ...Object.fromEntries(tenants.map((t) => [auditor(t), { subject: `a-${t}`, tenant: t, role: 'auditor' }])),
    },
    extraEnv,
  );
  const svc = await startService(admfService, env);
  const call = admfClient(() => svc.ports.http);
  const groupOf = (t: string) => `${env.LI_EVENTS_GROUP_ID}.${t}`;
  return { svc, call, groupOf };
}
type Admf = Awaited<ReturnType<typeof startAdmf>>;

/** Creates the tenant (after admf started), a LEMF and a mail warrant on account jdoe. */
async function onboard(admf: Admf, t: string) {
  expect((await admf.call(OP, 'POST', '/tenants', { id: t, name: t, defaultCountryCode: '49' })).status).toBe(201);
  const lemf = { name: 'L', transport: 'ETSI_TCP', address: { host: '127.0.0.1', port: 16000 }, allowInsecure: true };
  expect((await admf.call(OP, 'PUT', `/tenants/${t}/lemfs/lemf-1`, lemf)).status).toBe(200);
  const warrant = {
    liid: 'MAIL2',
    authorisationCountry: 'DE',
    courtCaseId: 'AZ-2026-2',
    interceptionKind: 'EMAIL',
    targets: [
      { type: 'MAIL_ACCOUNT', value: 'jdoe' },
      { type: 'MAIL_ACCOUNT', value: 'other' },
    ],
    selection: { login: true, newMail: true },
    deliver: 'IRI_AND_CC',
    lemfIds: ['lemf-1'],
    validFrom: new Date(Date.now() - 60_000).toISOString(),
    validUntil: new Date(Date.now() + 86_400_000).toISOString(),
  };
  expect((await admf.call(prov(t), 'POST', `/tenants/${t}/warrants`, warrant)).status).toBe(201);
}

async function sendAccountEvent(t: string, action: string, attributes: Record<string, string>) {
  const topic = topicName(t, 'events');
  const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
  const event = accountEvent(t, `${t}-${action}-${Object.values(attributes).join('-')}`, action, attributes);
  await bus.send([{ topic, key: 'acct', value: await codec.encode(event) }]);
}

const targetsOf = async (admf: Admf, t: string): Promise<string[]> =>
  (await admf.call(prov(t), 'GET', `/tenants/${t}/warrants/DE/MAIL2`)).json.targets.map(
    (x: { value: string }) => x.value,
  );

/**
 * The account-event audit records this admf wrote (its API), and the warrant's last version on
 * Kafka. The audit is read through the API, not counted on Kafka: an admf that serves every
 * tenant (LI_SERVED_TENANTS unset) on the shared broker would follow this one's events too.
 */
async function state(admf: Admf, t: string) {
  const audit = await admf.call(auditor(t), 'GET', `/tenants/${t}/audit`);
  const wCodec = await bus.codec<Warrant>(topicName(t, 'warrants'), 'Warrant');
  const last = (await readTopic(bus.kafka, topicName(t, 'warrants'))).at(-1)!;
  return {
    accountAudit: audit.json
      .filter((a: { actor: string }) => a.actor === 'system:account-events')
      .map((a: { action: string }) => a.action),
    onKafka: (await wCodec.decode(last.value)).targets.map((x) => x.value),
  };
}

const membersOf = async (group: string) =>
  (await admin.describeGroups([group])).groups[0]!.members.map((m) => m.memberId);

// The test's account events all have one key, so one partition of the (multi-partition) topic.
const committedOffset = async (group: string, topic: string) =>
  String(
    (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]!.partitions.reduce(
      (n, p) => n + Math.max(0, Number(p.offset)),
      0,
    ),
  );
const partitionWithRecords = async (topic: string) =>
  (await admin.fetchTopicOffsets(topic)).find((o) => o.high !== '0')!.partition;

describe('admf account events per tenant on Kafka', () => {
  it('follows tenants created after it started, each in its own group, without restarting the others', async () => {
    const [a, b] = [uniqueTenant('acca'), uniqueTenant('accb')];
    const admf = await startAdmf([a, b]);
    try {
      const t0 = Date.now();
      await onboard(admf, a);
      await sendAccountEvent(a, 'account.renamed', { old: 'jdoe', new: 'john' });
      await waitFor(async () => (await targetsOf(admf, a)).includes('john'), {
        what: `the rename on ${a} (created after admf started) applied`,
        timeoutMs: 45_000,
        intervalMs: 300,
      });
      const tA = Date.now() - t0;
      const aMembers = await membersOf(admf.groupOf(a));
      expect(aMembers).toHaveLength(1);

      await onboard(admf, b);
      await sendAccountEvent(b, 'account.removed', { account: 'jdoe' });
      await waitFor(async () => !(await targetsOf(admf, b)).includes('jdoe'), {
        what: `the removal on ${b} applied`,
        timeoutMs: 45_000,
        intervalMs: 300,
      });
      // a's consumer went on as it was: the same single member, and it still applies a's events.
      expect(await membersOf(admf.groupOf(a))).toEqual(aMembers);
      expect(await membersOf(admf.groupOf(b))).toHaveLength(1);
      await sendAccountEvent(a, 'account.removed', { account: 'other' });
      await waitFor(async () => !(await targetsOf(admf, a)).includes('other'), {
        what: `the removal on ${a} applied after ${b} was created`,
        timeoutMs: 45_000,
        intervalMs: 300,
      });
      console.log(`tenant created → rename applied: ${tA} ms; whole test body ${Date.now() - t0} ms`);

      expect(await state(admf, a)).toEqual({
        accountAudit: ['warrant.target.renamed', 'warrant.target.removed'],
        onKafka: ['john'],
      });
      expect(await state(admf, b)).toEqual({ accountAudit: ['warrant.target.removed'], onKafka: ['other'] });
      // Both consumers are registered: admf is ready once they joined.
      await waitFor(async () => (await fetch(`http://127.0.0.1:${admf.svc.metricsPort}/readyz`)).ok, {
        what: 'admf ready with both tenants followed',
        timeoutMs: 30_000,
        intervalMs: 300,
      });
    } finally {
      await admf.svc.stop();
    }
  }, 150_000);

  it('retries an update the broker refuses, leaves the offset in place meanwhile, and writes it once', async () => {
    const c = uniqueTenant('accr');
    const admf = await startAdmf([c]);
    // The broker refuses admf's writes to this tenant's warrants topic (only this one tenant's).
    const deny = {
      resourceType: AclResourceTypes.TOPIC,
      resourceName: topicName(c, 'warrants'),
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: 'User:li-admf',
      host: '*',
      operation: AclOperationTypes.WRITE,
      permissionType: AclPermissionTypes.DENY,
    };
    let denied = false;
    try {
      await onboard(admf, c);
      const events = topicName(c, 'events');
      await admin.createAcls({ acl: [deny] });
      denied = true;
      await sendAccountEvent(c, 'account.renamed', { old: 'jdoe', new: 'john' });
      const retried = async () => {
        const text = await (await fetch(`http://127.0.0.1:${admf.svc.metricsPort}/metrics`)).text();
        const line = text
          .split('\n')
          .find((l) => l.startsWith('li_admf_account_event_retries_total{') && l.includes(`tenant="${c}"`));
        return line ? Number(line.split(' ').at(-1)) : 0;
      };
      await waitFor(async () => (await retried()) >= 2, {
        what: 'the refused rename retried at least twice',
        timeoutMs: 45_000,
        intervalMs: 200,
      });
      expect(await targetsOf(admf, c)).toEqual(['jdoe', 'other']);
      // Nothing committed past the event: the group's offset is still before it.
      const before = await committedOffset(admf.groupOf(c), events);
      expect(before === '-1' || BigInt(before) === 0n).toBe(true);

      await admin.deleteAcls({ filters: [deny] });
      denied = false;
      const t0 = Date.now();
      await waitFor(async () => (await targetsOf(admf, c)).includes('john'), {
        what: 'the rename applied once the broker accepts the write',
        timeoutMs: 45_000,
        intervalMs: 200,
      });
      console.log(`retries while refused: ${await retried()}; applied ${Date.now() - t0} ms after the ACL was lifted`);
      await waitFor(async () => (await committedOffset(admf.groupOf(c), events)) === '1', {
        what: 'the offset committed past the event',
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      expect(await state(admf, c)).toEqual({ accountAudit: ['warrant.target.renamed'], onKafka: ['john', 'other'] });
    } finally {
      if (denied) await admin.deleteAcls({ filters: [deny] });
      await admf.svc.stop();
    }
  }, 150_000);

  // No other admf applies the removal meanwhile: the test helpers' admfs serve only their own
  // tenants (LI_SERVED_TENANTS), so test/e2e's, on the same broker, leave this tenant alone.
  it('continues from the offsets of the former single group, so an upgrade replays nothing', async () => {
    const e = uniqueTenant('accu');
    const first = await startAdmf([e]);
    try {
      await onboard(first, e);
    } finally {
      await first.svc.stop();
    }
    // An admf of the former kind had consumed the removal of jdoe in its one group (offset 1 committed).
    const former = `li.admf.${uniqueTenant('former').replace('former-', '')}`;
    const events = topicName(e, 'events');
    await sendAccountEvent(e, 'account.removed', { account: 'jdoe' });
    const partition = await partitionWithRecords(events);
    await admin.setOffsets({ groupId: former, topic: events, partitions: [{ partition, offset: '1' }] });
    await sendAccountEvent(e, 'account.renamed', { old: 'other', new: 'olga' });
    const upgraded = await startAdmf([e], { LI_EVENTS_GROUP_ID: former });
    try {
      await waitFor(async () => (await targetsOf(upgraded, e)).includes('olga'), {
        what: 'the rename after the former offset applied',
        timeoutMs: 45_000,
        intervalMs: 300,
      });
      expect(await targetsOf(upgraded, e)).toEqual(['jdoe', 'olga']);
      // The rename is stored (and seen) before the processor's transaction commits its offset.
      await waitFor(async () => (await committedOffset(upgraded.groupOf(e), events)) === '2', {
        what: 'the offset committed past the rename',
        timeoutMs: 30_000,
        intervalMs: 200,
      });
      expect((await state(upgraded, e)).accountAudit).toEqual(['warrant.target.renamed']);
    } finally {
      await upgraded.svc.stop();
    }
  }, 150_000);

  it('serves only its tenants (LI_SERVED_TENANTS): another tenant on the broker is neither loaded, followed nor created', async () => {
    const [own, other] = [uniqueTenant('accv'), uniqueTenant('accw')];
    const first = await startAdmf([other]);
    try {
      await onboard(first, other);
    } finally {
      await first.svc.stop();
    }
    const admf = await startAdmf([own]);
    try {
      await onboard(admf, own);
      // Ready: every consumer it follows has joined (an admf serving every tenant would follow other's too).
      await waitFor(async () => (await fetch(`http://127.0.0.1:${admf.svc.metricsPort}/readyz`)).ok, {
        what: 'admf ready',
        timeoutMs: 30_000,
        intervalMs: 300,
      });
      expect(await membersOf(admf.groupOf(own))).toHaveLength(1);
      expect(await membersOf(admf.groupOf(other))).toEqual([]);
      expect((await admf.call(OP, 'GET', `/tenants/${other}`)).status).toBe(404);
      expect((await admf.call(OP, 'GET', '/tenants')).json.map((t: { id: string }) => t.id)).toEqual([own]);
      const created = await admf.call(OP, 'POST', '/tenants', { id: other, name: 'o', defaultCountryCode: '49' });
      expect([created.status, created.json.error?.field]).toEqual([400, 'id']);
    } finally {
      await admf.svc.stop();
    }
  }, 150_000);

  it('creates tenants at once, then stops promptly, leaving no member in the new groups', async () => {
    const created = [uniqueTenant('accs'), uniqueTenant('accs'), uniqueTenant('accs')];
    const admf = await startAdmf(created);
    // admf writes one transaction at a time: changes of several tenants at once all succeed.
    const answers = await Promise.all(
      created.map((d) => admf.call(OP, 'POST', '/tenants', { id: d, name: d, defaultCountryCode: '49' })),
    );
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
    const t0 = Date.now();
    await within(30_000, 'admf stop right after tenant creations', admf.svc.stop());
    console.log(`stop() right after creating ${created.length} tenants: ${Date.now() - t0} ms`);
    for (const d of created) {
      await waitFor(async () => (await membersOf(admf.groupOf(d))).length === 0, {
        what: `no member left in ${admf.groupOf(d)}`,
        timeoutMs: 30_000,
        intervalMs: 300,
      });
    }
  }, 90_000);
});
