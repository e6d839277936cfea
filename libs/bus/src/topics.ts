// Every tenant has its own topics, li.<tenant>.<stream>, so that Kafka ACLs on the prefix
// li.<tenant>. isolate tenants. Topic names are only ever built here.
import { createHash } from 'node:crypto';
import { isTenantId, STREAMS, type Stream } from '@li/records';
import { BusError } from './errors.ts';

export function validateTenant(tenant: string): string {
  if (!isTenantId(tenant)) {
    throw new BusError(
      'BUS_ERR_TENANT',
      'invalid tenant id: expected 1-32 lower-case letters, digits or inner hyphens (no dots, underscores or spaces)',
    );
  }
  return tenant;
}

export function topicName(tenant: string, stream: Stream): string {
  validateTenant(tenant);
  if (!(STREAMS as readonly string[]).includes(stream)) {
    throw new BusError('BUS_ERR_STREAM', `unknown stream: expected one of ${STREAMS.join(', ')}`);
  }
  return `li.${tenant}.${stream}`;
}

/** The tenant of a li.<tenant>.<stream> topic; throws BUS_ERR_TENANT for a name of any other shape. */
export function tenantOfTopic(topic: string): string {
  const parts = topic.split('.');
  if (parts.length !== 3 || parts[0] !== 'li') {
    throw new BusError('BUS_ERR_TENANT', 'not a tenant topic: expected li.<tenant>.<stream>');
  }
  return validateTenant(parts[1] as string);
}

/** Kafka settings per stream: state is compacted; the audit trail is never deleted by retention. */
export function topicConfig(stream: Stream): { name: string; value: string }[] {
  switch (stream) {
    case 'warrants':
    case 'lemfs':
    case 'encoder-state':
    case 'delivery-state':
    case 'mcid':
    case 'taps':
      // Hourly segments: compaction only cleans closed segments, so tombstones of expired state
      // (the encoder's ended communications) free the topic within hours, not Kafka's default week.
      return [
        { name: 'cleanup.policy', value: 'compact' },
        { name: 'min.compaction.lag.ms', value: '60000' },
        { name: 'segment.ms', value: '3600000' },
      ];
    case 'audit':
      return [
        { name: 'cleanup.policy', value: 'delete' },
        { name: 'retention.ms', value: '-1' },
        { name: 'retention.bytes', value: '-1' },
      ];
    default:
      return [{ name: 'cleanup.policy', value: 'delete' }];
  }
}

/**
 * The consumer group of one deployment of a service: deployments that serve different tenant
 * lists must not share a group, or the group's assignor hands one deployment's partitions to
 * members that never subscribed to them and those records wait until the next rebalance.
 */
export function deploymentGroupId(service: string, tenants: readonly string[]): string {
  const list = [...tenants].map(validateTenant).sort().join('+');
  const id = `li.${service}.${list}`;
  return id.length <= 200 ? id : `li.${service}.${createHash('sha256').update(list).digest('hex').slice(0, 32)}`;
}
