import { describe, expect, it } from 'vitest';
import { isBusError } from './errors.ts';
import { DEFAULT_PARTITIONS, SINGLE_PARTITION_LAYOUT, topicLayout } from './topic-layout.ts';

function layoutErrorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    expect(isBusError(err, 'BUS_ERR_TOPIC_LAYOUT')).toBe(true);
    return err as Error;
  }
  throw new Error('expected BUS_ERR_TOPIC_LAYOUT');
}

describe('topicLayout', () => {
  it('gives the traffic streams several partitions and state one by default', () => {
    const l = topicLayout();
    for (const s of ['events', 'matched', 'hi2', 'hi3', 'reports'] as const) expect(l.partitions('acme', s)).toBe(3);
    for (const s of ['warrants', 'lemfs', 'encoder-state', 'delivery-state', 'audit', 'dlq'] as const)
      expect(l.partitions('acme', s)).toBe(1);
    expect(l.replicationFactor).toBe(-1);
    expect(l.minInsyncReplicas).toBe(0);
  });

  it('takes the most specific override: tenant and stream, tenant, stream, *', () => {
    const l = topicLayout({ partitions: ['*=2', 'events=6', 'big/*=12', 'big/hi3=24'] });
    expect(l.partitions('acme', 'dlq')).toBe(2);
    expect(l.partitions('acme', 'events')).toBe(6);
    expect(l.partitions('big', 'events')).toBe(12);
    expect(l.partitions('big', 'hi3')).toBe(24);
    expect(l.partitions('acme', 'hi3')).toBe(2);
  });

  it('keeps the audit trail on one partition, even under *', () => {
    expect(topicLayout({ partitions: ['*=8'] }).partitions('acme', 'audit')).toBe(1);
    expect(layoutErrorOf(() => topicLayout({ partitions: ['audit=3'] })).message).toMatch(/audit keeps one partition/);
  });

  it('refuses malformed entries, naming the entry by position without echoing it', () => {
    const bad = ['events', 'events=0', 'secrets=3', 'Bad_T/events=3', 'events=100000'];
    for (const entry of bad) {
      const err = layoutErrorOf(() => topicLayout({ partitions: ['hi2=3', entry] }));
      expect(err.message).toMatch(/^partitions entry 2: /);
      expect(err.message).not.toContain(entry);
    }
  });

  it('checks replication settings', () => {
    expect(topicLayout({ replicationFactor: 3, minInsyncReplicas: 2 }).replicationFactor).toBe(3);
    expect(layoutErrorOf(() => topicLayout({ replicationFactor: 0 })).message).toMatch(/^replication factor/);
    expect(layoutErrorOf(() => topicLayout({ replicationFactor: 2, minInsyncReplicas: 3 })).message).toMatch(
      /^min.insync.replicas/,
    );
  });

  it('has a one-partition layout for hand-built buses', () => {
    for (const s of Object.keys(DEFAULT_PARTITIONS) as (keyof typeof DEFAULT_PARTITIONS)[])
      expect(SINGLE_PARTITION_LAYOUT.partitions('acme', s)).toBe(1);
  });
});
