import type { Stream } from '@li/records';
import { describe, expect, it } from 'vitest';
import { isBusError } from './errors.ts';
import { deploymentGroupId, tenantOfTopic, topicConfig, topicName, validateTenant } from './topics.ts';

describe('topics', () => {
  it('names topics li.<tenant>.<stream>', () => {
    expect(topicName('acme', 'events')).toBe('li.acme.events');
    expect(topicName('voip-42', 'encoder-state')).toBe('li.voip-42.encoder-state');
  });

  it.each(['', 'Acme', 'a.b', 'a_b', 'a b', '-a', 'a-', 'x'.repeat(33), '../etc', 'acme\n'])(
    'rejects tenant id %j with a clear error',
    (tenant) => {
      let caught: unknown;
      try {
        validateTenant(tenant);
      } catch (err) {
        caught = err;
      }
      expect(isBusError(caught, 'BUS_ERR_TENANT')).toBe(true);
      expect((caught as Error).message).toMatch(/invalid tenant id: expected/);
    },
  );

  it('rejects an unknown stream', () => {
    expect(() => topicName('acme', 'secrets' as Stream)).toThrow(/unknown stream/);
  });

  it('compacts state topics and keeps the audit forever', () => {
    expect(topicConfig('warrants')).toContainEqual({ name: 'cleanup.policy', value: 'compact' });
    expect(topicConfig('audit')).toContainEqual({ name: 'retention.ms', value: '-1' });
    expect(topicConfig('events')).toContainEqual({ name: 'cleanup.policy', value: 'delete' });
    // compaction cleans closed segments only: state topics roll hourly so expired state goes
    expect(topicConfig('encoder-state')).toContainEqual({ name: 'segment.ms', value: '3600000' });
  });

  it('gives each tenant list its own consumer group, whatever the order', () => {
    expect(deploymentGroupId('target-match', ['b', 'a'])).toBe('li.target-match.a+b');
    expect(deploymentGroupId('target-match', ['a', 'b'])).toBe(deploymentGroupId('target-match', ['b', 'a']));
    expect(deploymentGroupId('target-match', ['a'])).not.toBe(deploymentGroupId('target-match', ['a', 'b']));
    const many = Array.from({ length: 40 }, (_, i) => `tenant-${i}`);
    expect(deploymentGroupId('iri-encoder', many)).toMatch(/^li\.iri-encoder\.[0-9a-f]{32}$/);
    expect(() => deploymentGroupId('x', ['Bad.Tenant'])).toThrow(/invalid tenant id/);
  });
});

describe('tenantOfTopic', () => {
  it('reads the tenant back from every stream topic', () => {
    expect(tenantOfTopic(topicName('acme-1', 'events'))).toBe('acme-1');
  });

  it.each(['li.acme', 'li.acme.events.x', 'xx.acme.events', 'li.ACME.events', 'li_admf_events'])('refuses %s', (t) => {
    expect(() => tenantOfTopic(t)).toThrow(/tenant/);
  });
});
