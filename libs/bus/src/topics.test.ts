import { describe, expect, it } from 'vitest';
import { isBusError } from './errors.ts';
import { type Stream, topicConfig, topicName, validateTenant } from './topics.ts';

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
  });
});
