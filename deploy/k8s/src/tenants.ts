// The per-tenant part of an overlay, rendered from the access description in @li/bus (the same
// grants the local broker gets through kafka-access): Strimzi KafkaTopics and KafkaUsers, one
// ingest per tenant, cc-delivery's LEMF secret mounts, the tenant list and the KEDA scalers.
// Nobody edits these files by hand: `npm run k8s:tenant -- add <tenant> --overlay <name>`.
import {
  deploymentGrants,
  deploymentGroupId,
  type Grant,
  operatorGrants,
  SERVICES,
  type ServiceName,
  STREAMS,
  type Stream,
  SYSTEM_TOPICS,
  topicConfig,
  topicName,
  validateTenant,
} from '@li/bus';

/** An overlay's tenant settings (overlays/<name>/tenants.json). */
export interface TenantsFile {
  /** Strimzi renders KafkaTopics, KafkaUsers and KEDA scalers; without it the broker is managed elsewhere. */
  strimzi: boolean;
  /** Partitions of each tenant's record streams (state and warrant topics keep one). */
  partitions: number;
  /** Replicas of every topic (Strimzi only). */
  replicas: number;
  tenants: string[];
}

const KAFKA_CLUSTER = 'li-kafka';
/** The principal KEDA reads consumer-group lag with: describe only. */
const KEDA_PRINCIPAL = 'li-keda';

type Obj = Record<string, unknown>;
/** A generated file: path relative to the overlay's tenants/ directory, and its objects. */
export interface GeneratedFile {
  path: string;
  objects: Obj[];
}

const SINGLE_PARTITION: readonly Stream[] = ['warrants', 'lemfs', 'audit'];

/** The principal (and Strimzi KafkaUser, and its password Secret) of one deployment. */
function principalOf(service: ServiceName, tenant?: string): string {
  return service === 'ingest' && tenant ? `li-ingest-${tenant}` : `li-${service}`;
}

/** Kubernetes object names are DNS subdomains: no underscores (system topics have one). */
const topicObjectName = (topic: string) => topic.replaceAll('_', '').replaceAll('..', '.');

function kafkaTopic(
  topic: string,
  partitions: number,
  replicas: number,
  config: { name: string; value: string }[],
): Obj {
  return {
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaTopic',
    metadata: { name: topicObjectName(topic), labels: { 'strimzi.io/cluster': KAFKA_CLUSTER } },
    spec: {
      topicName: topic,
      partitions,
      replicas,
      config: Object.fromEntries(config.map((c) => [c.name, c.value])),
    },
  };
}

/** Every stream of one tenant as a KafkaTopic, with the settings the bus gives it (topicConfig). */
function tenantTopics(tenant: string, t: Pick<TenantsFile, 'partitions' | 'replicas'>): Obj[] {
  validateTenant(tenant);
  return STREAMS.map((stream) =>
    kafkaTopic(
      topicName(tenant, stream),
      SINGLE_PARTITION.includes(stream) ? 1 : t.partitions,
      t.replicas,
      topicConfig(stream),
    ),
  );
}

const STRIMZI_RESOURCE = { TOPIC: 'topic', GROUP: 'group', TRANSACTIONAL_ID: 'transactionalId' } as const;
const STRIMZI_PATTERN = { LITERAL: 'literal', PREFIXED: 'prefix' } as const;
const STRIMZI_OPERATION = {
  READ: 'Read',
  WRITE: 'Write',
  CREATE: 'Create',
  DESCRIBE: 'Describe',
  DELETE: 'Delete',
} as const;

/** A Strimzi KafkaUser (SCRAM-SHA-512) with exactly these grants. */
function kafkaUser(principal: string, grants: readonly Grant[]): Obj {
  return {
    apiVersion: 'kafka.strimzi.io/v1beta2',
    kind: 'KafkaUser',
    metadata: { name: principal, labels: { 'strimzi.io/cluster': KAFKA_CLUSTER } },
    spec: {
      authentication: { type: 'scram-sha-512' },
      authorization: {
        type: 'simple',
        acls: grants.map((g) => ({
          resource: { type: STRIMZI_RESOURCE[g.resource], name: g.name, patternType: STRIMZI_PATTERN[g.pattern] },
          operations: g.operations.map((o) => STRIMZI_OPERATION[o]),
          host: '*',
        })),
      },
    },
  };
}

/** The KafkaUsers of an overlay: admf, each shared deployment serving every tenant, each tenant's ingest, KEDA. */
function kafkaUsers(tenants: readonly string[]): Obj[] {
  const users: Obj[] = [kafkaUser(principalOf('admf'), operatorGrants())];
  for (const service of SERVICES) {
    if (service === 'admf') continue;
    if (service === 'ingest') {
      for (const t of tenants) users.push(kafkaUser(principalOf('ingest', t), deploymentGrants('ingest', [t])));
    } else users.push(kafkaUser(principalOf(service), deploymentGrants(service, tenants)));
  }
  users.push(
    kafkaUser(KEDA_PRINCIPAL, [
      { resource: 'TOPIC', pattern: 'PREFIXED', name: 'li.', operations: ['DESCRIBE'] },
      { resource: 'GROUP', pattern: 'PREFIXED', name: 'li.', operations: ['DESCRIBE'] },
    ]),
  );
  return users;
}

/** One tenant's ingest: base/ingest with a -<tenant> suffix, its tenant, principal and token Secret. */
function ingestKustomization(tenant: string, t: Pick<TenantsFile, 'strimzi'>): Obj {
  const principal = t.strimzi ? principalOf('ingest', tenant) : 'li-ingest';
  return {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: ['../../../../base/ingest'],
    nameSuffix: `-${tenant}`,
    labels: [{ pairs: { 'li.io/tenant': tenant }, includeSelectors: true }],
    patches: [
      {
        target: { kind: 'Deployment', name: 'li-ingest' },
        // `test` first: a reordered base fails the render instead of patching the wrong entry.
        patch: JSON.stringify([
          { op: 'test', path: '/spec/template/spec/containers/0/env/1/name', value: 'LI_TENANT' },
          { op: 'test', path: '/spec/template/spec/containers/0/env/2/name', value: 'LI_KAFKA_SASL__USERNAME' },
          { op: 'test', path: '/spec/template/spec/volumes/2/name', value: 'kafka-password' },
          { op: 'test', path: '/spec/template/spec/volumes/4/name', value: 'tokens' },
          { op: 'replace', path: '/spec/template/spec/containers/0/env/1/value', value: tenant },
          { op: 'replace', path: '/spec/template/spec/containers/0/env/2/value', value: principal },
          { op: 'replace', path: '/spec/template/spec/volumes/2/secret/secretName', value: principal },
          {
            op: 'replace',
            path: '/spec/template/spec/volumes/4/secret/secretName',
            value: `li-ingest-tokens-${tenant}`,
          },
        ]),
      },
    ],
  };
}

/** cc-delivery reads each tenant's LEMF credentials from /var/run/secrets/li/<tenant>/ (Secret li-lemf-<tenant>). */
function ccDeliverySecretsPatch(tenants: readonly string[]): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'li-cc-delivery' },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'cc-delivery',
              volumeMounts: tenants.map((t) => ({
                name: `lemf-${t}`,
                mountPath: `/var/run/secrets/li/${t}`,
                readOnly: true,
              })),
            },
          ],
          // Optional: a tenant without a LEMF needing credentials has no Secret.
          volumes: tenants.map((t) => ({ name: `lemf-${t}`, secret: { secretName: `li-lemf-${t}`, optional: true } })),
        },
      },
    },
  };
}

/** KEDA: target-match and iri-encoder on their consumer group's lag, cc-delivery on its LEMF lag metric. */
function scaledObjects(tenants: readonly string[], prometheusUrl: string): Obj[] {
  const auth: Obj = {
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'TriggerAuthentication',
    metadata: { name: 'li-keda-kafka' },
    spec: {
      secretTargetRef: [
        // Strimzi's user Secret holds the password only; the name comes from the component's generator.
        { parameter: 'username', name: 'li-keda-username', key: 'username' },
        { parameter: 'password', name: KEDA_PRINCIPAL, key: 'password' },
        { parameter: 'ca', name: `${KAFKA_CLUSTER}-cluster-ca-cert`, key: 'ca.crt' },
      ],
    },
  };
  const onLag = (service: 'target-match' | 'iri-encoder', topics: Stream[]): Obj => ({
    apiVersion: 'keda.sh/v1alpha1',
    kind: 'ScaledObject',
    metadata: { name: `li-${service}` },
    spec: {
      scaleTargetRef: { name: `li-${service}` },
      minReplicaCount: 1,
      maxReplicaCount: 6,
      cooldownPeriod: 300,
      triggers: tenants.flatMap((t) =>
        topics.map((stream) => ({
          type: 'kafka',
          authenticationRef: { name: 'li-keda-kafka' },
          metadata: {
            bootstrapServers: `${KAFKA_CLUSTER}-kafka-bootstrap:9093`,
            consumerGroup: deploymentGroupId(service, tenants),
            topic: topicName(t, stream),
            lagThreshold: '500',
            sasl: 'scram_sha512',
            tls: 'enable',
          },
        })),
      ),
    },
  });
  return [
    auth,
    onLag('target-match', ['events']),
    onLag('iri-encoder', ['matched']),
    {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: 'li-cc-delivery' },
      spec: {
        scaleTargetRef: { name: 'li-cc-delivery' },
        minReplicaCount: 1,
        maxReplicaCount: 6,
        cooldownPeriod: 300,
        triggers: [
          {
            type: 'prometheus',
            metadata: {
              serverAddress: prometheusUrl,
              query: 'sum(li_cc_delivery_consumer_lag_records)',
              threshold: '1000',
            },
          },
        ],
      },
    },
  ];
}

/** Every file of an overlay's tenants/ component. */
export function renderTenants(t: TenantsFile, prometheusUrl: string): { files: GeneratedFile[]; kustomization: Obj } {
  if (t.tenants.length === 0) throw new Error('tenants.json: at least one tenant');
  const tenants = [...new Set(t.tenants.map(validateTenant))].sort();
  const files: GeneratedFile[] = [];
  const resources: string[] = [];
  for (const tenant of tenants) {
    files.push({ path: `${tenant}/kustomization.yaml`, objects: [ingestKustomization(tenant, t)] });
    resources.push(tenant);
    if (t.strimzi) {
      // Beside, not inside, the ingest kustomization: its name suffix is not for topics.
      files.push({ path: `topics-${tenant}.yaml`, objects: tenantTopics(tenant, t) });
      resources.push(`topics-${tenant}.yaml`);
    }
  }
  const patches: Obj[] = [{ path: 'cc-delivery-secrets.yaml' }];
  files.push({ path: 'cc-delivery-secrets.yaml', objects: [ccDeliverySecretsPatch(tenants)] });
  if (t.strimzi) {
    files.push({
      path: 'system-topics.yaml',
      objects: Object.values(SYSTEM_TOPICS).map((topic) => kafkaTopic(topic, 1, t.replicas, topicConfig('warrants'))),
    });
    files.push({ path: 'kafka-users.yaml', objects: kafkaUsers(tenants) });
    files.push({ path: 'keda.yaml', objects: scaledObjects(tenants, prometheusUrl) });
    resources.push('system-topics.yaml', 'kafka-users.yaml', 'keda.yaml');
  }
  const kustomization: Obj = {
    apiVersion: 'kustomize.config.k8s.io/v1alpha1',
    kind: 'Component',
    resources,
    patches,
    configMapGenerator: [{ name: 'li-common', behavior: 'merge', literals: [`LI_TENANTS=${tenants.join(',')}`] }],
    ...(t.strimzi
      ? {
          secretGenerator: [
            {
              name: 'li-keda-username',
              literals: [`username=${KEDA_PRINCIPAL}`],
              // Named by a KEDA TriggerAuthentication, which kustomize does not rewrite.
              options: { disableNameSuffixHash: true },
            },
          ],
        }
      : {}),
  };
  return { files, kustomization };
}
