// Every overlay renders with kubectl kustomize, every rendered object validates against the
// Kubernetes, Strimzi, KEDA and Prometheus Operator schemas, the policies hold, and the
// generated files are what their sources say (tenants.json, @li/bus access.ts, alerts.yml).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deploymentGrants, type Grant, operatorGrants, STREAMS, topicConfig } from '@li/bus';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { generatedFiles, K8S_DIR, REPO_ROOT, readTenantsFile, staleFiles, toYaml } from './generate.ts';
import { dashboardExpressions } from './monitoring.ts';
import { policyViolations } from './policy.ts';
import { type K8sObject, renderKustomization } from './render.ts';
import { renderTenants } from './tenants.ts';
import { validateAll, validateObject } from './validate.ts';

// production-ipsec: production with the opt-in components/ipsec-gateway.
const OVERLAYS = ['local', 'production', 'production-ipsec'] as const;
// The one container allowed to run as root: charon on the IPsec gateway nodes. A non-root process
// gets no added capability in its effective set (no ambient capabilities in Kubernetes, and
// no_new_privs blocks file capabilities), and charon needs NET_ADMIN (xfrm) and NET_BIND_SERVICE
// (UDP 500). docs/IPSEC.md, docs/DEPLOY.md "IPsec to LEMFs".
const ROOT_ALLOWED = [
  { container: 'DaemonSet li-ipsec-gateway container charon', capabilities: ['NET_ADMIN', 'NET_BIND_SERVICE'] },
] as const;
const rendered = new Map<string, K8sObject[]>();
const find = (objs: K8sObject[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);

beforeAll(() => {
  // The Strimzi CRDs from Maven Central (cached; .ci/run fetches them before the tests).
  const r = spawnSync('bash', [join(K8S_DIR, 'crds/fetch.sh')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`crds/fetch.sh: ${r.stderr}`);
  for (const o of OVERLAYS) rendered.set(o, renderKustomization(join(K8S_DIR, 'overlays', o)));
}, 300_000);

describe('render and schemas', () => {
  it.each(OVERLAYS)('%s: renders and every object validates', async (overlay) => {
    const objs = rendered.get(overlay)!;
    expect(objs.length).toBeGreaterThan(20);
    expect(await validateAll(objs)).toEqual([]);
  });

  it('production has the Strimzi cluster, topics, users, scalers and monitoring', () => {
    const objs = rendered.get('production')!;
    const kinds = new Set(objs.map((o) => o.kind));
    for (const k of [
      'Kafka',
      'KafkaNodePool',
      'KafkaTopic',
      'KafkaUser',
      'ScaledObject',
      'PodMonitor',
      'PrometheusRule',
    ]) {
      expect(kinds, k).toContain(k);
    }
    expect(objs.every((o) => o.kind === 'Namespace' || o.metadata.namespace === 'li-mediation')).toBe(true);
    const scaled = objs.filter((o) => o.kind === 'ScaledObject').map((o) => o.metadata.name);
    expect(scaled.sort()).toEqual(['li-cc-delivery', 'li-iri-encoder', 'li-target-match']);
  });

  it('the validators reject what the API server would refuse or silently drop', async () => {
    const objs = rendered.get('production')!;
    const user = structuredClone(find(objs, 'KafkaUser', 'li-target-match')!);
    (user.spec as Record<string, unknown>).authorisation = (user.spec as Record<string, unknown>).authorization;
    expect((await validateObject(user)).join()).toMatch(/additional properties/);
    const topic = structuredClone(find(objs, 'KafkaTopic', 'li.demo.events')!);
    (topic.spec as Record<string, unknown>).partitions = 'three';
    expect((await validateObject(topic)).join()).toMatch(/partitions must be integer/);
    const kafka = structuredClone(find(objs, 'Kafka', 'li-kafka')!);
    delete (kafka.spec as { kafka: { listeners: { type?: string }[] } }).kafka.listeners[0]!.type;
    expect((await validateObject(kafka)).join()).toMatch(/type/);
    const deployment = structuredClone(find(objs, 'Deployment', 'li-admf')!);
    (deployment.spec as { replicas: unknown }).replicas = 'one';
    expect((await validateObject(deployment)).join()).toMatch(/replicas must be integer/);
    const scaled = structuredClone(find(objs, 'ScaledObject', 'li-target-match')!);
    delete (scaled.spec as { scaleTargetRef?: unknown }).scaleTargetRef;
    expect((await validateObject(scaled)).join()).toMatch(/scaleTargetRef/);
    const rule = structuredClone(find(objs, 'PrometheusRule', 'li-alerts')!);
    (rule.spec as { groups: unknown }).groups = 'none';
    expect((await validateObject(rule)).join()).toMatch(/groups must be array/);
    // A typo the API server would drop in silence: the Deployment would have no readiness probe.
    const typo = structuredClone(objs);
    const c = (
      find(typo, 'Deployment', 'li-admf')!.spec as { template: { spec: { containers: Record<string, unknown>[] } } }
    ).template.spec.containers[0]!;
    c.readinesProbe = c.readinessProbe;
    const monitor = find(typo, 'PodMonitor', 'li-mediation')!.spec as {
      podMetricsEndpoints: Record<string, unknown>[];
    };
    monitor.podMetricsEndpoints[0]!.intervall = '1s';
    expect(await validateAll(typo)).toEqual([
      `Deployment li-admf: Object literal may only specify known properties, and '"readinesProbe"' does not exist in type 'IContainer'.`,
      `PodMonitor li-mediation: Object literal may only specify known properties, and '"intervall"' does not exist in type 'IPodMetricsEndpoint'.`,
    ]);
    expect(await validateObject({ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' } })).toEqual([
      'Thing x: example.com/v1 Thing: no schema known (not a Kubernetes, KEDA, Prometheus Operator or Strimzi kind)',
    ]);
  });
});

describe('policies', () => {
  it.each(OVERLAYS)('%s: no root, limits and probes everywhere, no secret in a ConfigMap', (overlay) => {
    expect(policyViolations(rendered.get(overlay)!, ROOT_ALLOWED)).toEqual([]);
  });

  it('the root exception is charon on the gateway, by name, and nothing more', () => {
    const objs = rendered.get('production-ipsec')!;
    type Ctr = { name: string; securityContext: { capabilities: { add?: string[]; drop?: string[] } } };
    const spec = (o: K8sObject[], kind: string, name: string) =>
      (find(o, kind, name)!.spec as { template: { spec: { containers: Ctr[] } } }).template.spec;
    // Without the allow-list entry the gateway fails like any root container.
    expect(policyViolations(objs)).toEqual([
      'DaemonSet li-ipsec-gateway container charon: runAsNonRoot is not true',
      'DaemonSet li-ipsec-gateway container charon: runAsUser is unset or 0 (root)',
      'DaemonSet li-ipsec-gateway container charon: adds capabilities NET_ADMIN, NET_BIND_SERVICE',
    ]);
    const mutate = (f: (o: K8sObject[]) => void) => {
      const copy = structuredClone(objs);
      f(copy);
      return policyViolations(copy, ROOT_ALLOWED);
    };
    // The same container under another name (or in cc-delivery's pod) is refused.
    expect(
      mutate((o) => {
        spec(o, 'DaemonSet', 'li-ipsec-gateway').containers[0]!.name = 'strongswan';
      }),
    ).toEqual([
      'DaemonSet li-ipsec-gateway container strongswan: runAsNonRoot is not true',
      'DaemonSet li-ipsec-gateway container strongswan: runAsUser is unset or 0 (root)',
      'DaemonSet li-ipsec-gateway container strongswan: adds capabilities NET_ADMIN, NET_BIND_SERVICE',
    ]);
    expect(
      mutate((o) => {
        const gw = spec(o, 'DaemonSet', 'li-ipsec-gateway').containers[0]!;
        spec(o, 'Deployment', 'li-cc-delivery').containers.push(structuredClone(gw));
      }),
    ).toEqual([
      'Deployment li-cc-delivery container charon: runAsNonRoot is not true',
      'Deployment li-cc-delivery container charon: runAsUser is unset or 0 (root)',
      'Deployment li-cc-delivery container charon: adds capabilities NET_ADMIN, NET_BIND_SERVICE',
    ]);
    // The allowed container may add only its two capabilities, and must drop every other.
    expect(
      mutate((o) =>
        spec(o, 'DaemonSet', 'li-ipsec-gateway').containers[0]!.securityContext.capabilities.add!.push('SYS_ADMIN'),
      ),
    ).toEqual(['DaemonSet li-ipsec-gateway container charon: adds capabilities SYS_ADMIN']);
    expect(
      mutate((o) => delete spec(o, 'DaemonSet', 'li-ipsec-gateway').containers[0]!.securityContext.capabilities.drop),
    ).toEqual(['DaemonSet li-ipsec-gateway container charon: does not drop ALL capabilities']);
    // A non-root container adding a capability fails too.
    expect(
      mutate(
        (o) => (spec(o, 'Deployment', 'li-cc-delivery').containers[0]!.securityContext.capabilities.add = ['NET_RAW']),
      ),
    ).toEqual(['Deployment li-cc-delivery container cc-delivery: adds capabilities NET_RAW']);
  });

  it('fails on each regression', () => {
    const objs = rendered.get('production')!;
    const mutate = (f: (o: K8sObject[]) => void) => {
      const copy = structuredClone(objs);
      f(copy);
      return policyViolations(copy);
    };
    type Pod = {
      securityContext: Record<string, unknown>;
      containers: Record<string, unknown>[];
    };
    const pod = (o: K8sObject[], name: string) =>
      (find(o, 'Deployment', name)!.spec as { template: { spec: Pod } }).template.spec;
    expect(mutate((o) => (pod(o, 'li-admf').securityContext.runAsUser = 0))).toEqual([
      'Deployment li-admf container admf: runAsUser is unset or 0 (root)',
    ]);
    expect(mutate((o) => (pod(o, 'li-target-match').containers[0]!.image = 'li-mediation'))).toEqual([
      "Deployment li-target-match container target-match: image li-mediation is not registry/name:tag (a short name resolves by the node's search list)",
    ]);
    expect(mutate((o) => delete pod(o, 'li-iri-encoder').securityContext.runAsNonRoot)).toEqual([
      'Deployment li-iri-encoder container iri-encoder: runAsNonRoot is not true',
    ]);
    expect(
      mutate((o) => delete (pod(o, 'li-cc-delivery').containers[0]!.resources as { limits?: unknown }).limits),
    ).toEqual(['Deployment li-cc-delivery container cc-delivery: no cpu and memory limits']);
    expect(mutate((o) => delete pod(o, 'li-ingest-demo').containers[0]!.readinessProbe)).toEqual([
      'Deployment li-ingest-demo container ingest: no readinessProbe',
    ]);
    expect(mutate((o) => delete pod(o, 'li-mcid-store').containers[0]!.livenessProbe)).toEqual([
      'Deployment li-mcid-store container mcid-store: no livenessProbe',
    ]);
    const common = (o: K8sObject[]) =>
      o.find((x) => x.kind === 'ConfigMap' && x.metadata.name.startsWith('li-common'))!;
    expect(mutate((o) => ((common(o).data as Record<string, string>).LI_KAFKA_SASL__PASSWORD = 'hunter2'))).toEqual([
      `ConfigMap ${common(objs).metadata.name}: key LI_KAFKA_SASL__PASSWORD looks like a secret`,
    ]);
    expect(
      mutate((o) => {
        o.push({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 's' },
          stringData: { t: 'a-long-token-value-1' },
        });
        (common(o).data as Record<string, string>).LI_NOTE = 'see a-long-token-value-1';
      }),
    ).toEqual([`ConfigMap ${common(objs).metadata.name}: key LI_NOTE holds the value of a Secret`]);
    expect(
      mutate(
        (o) =>
          pod(o, 'li-admf').containers[0]!.env &&
          (pod(o, 'li-admf').containers[0]!.env as unknown[]).push({ name: 'LI_TOKEN', value: 'x' }),
      ),
    ).toEqual([
      'Deployment li-admf container admf: env LI_TOKEN holds a literal value (use a Secret file or secretKeyRef)',
    ]);
  });
});

describe('generated from one source', () => {
  it('the files on disk are what npm run k8s:generate writes (no hand edit, nothing stale)', () => {
    const files = generatedFiles();
    for (const [path, content] of files) expect(readFileSync(join(K8S_DIR, path), 'utf8'), path).toBe(content);
    expect(staleFiles(files)).toEqual([]);
  });

  it('each KafkaUser carries exactly the grants of @li/bus access.ts', () => {
    const objs = rendered.get('production')!;
    const tenants = readTenantsFile('production').tenants;
    const back = (o: K8sObject): Grant[] =>
      (
        o.spec as { authorization: { acls: { resource: Record<string, string>; operations: string[] }[] } }
      ).authorization.acls.map((a) => ({
        resource: ({ topic: 'TOPIC', group: 'GROUP', transactionalId: 'TRANSACTIONAL_ID' } as const)[
          a.resource.type as 'topic'
        ]!,
        pattern: a.resource.patternType === 'prefix' ? 'PREFIXED' : 'LITERAL',
        name: a.resource.name!,
        operations: a.operations.map((x) => x.toUpperCase()) as Grant['operations'],
      }));
    expect(back(find(objs, 'KafkaUser', 'li-admf')!)).toEqual(operatorGrants());
    for (const s of ['target-match', 'iri-encoder', 'cc-delivery', 'mcid-store'] as const) {
      expect(back(find(objs, 'KafkaUser', `li-${s}`)!), s).toEqual(deploymentGrants(s, tenants));
    }
    for (const t of tenants)
      expect(back(find(objs, 'KafkaUser', `li-ingest-${t}`)!)).toEqual(deploymentGrants('ingest', [t]));
    // Each deployment connects as its KafkaUser, whose Secret (made by Strimzi) holds its password.
    for (const d of objs.filter((o) => o.kind === 'Deployment')) {
      const spec = (
        d.spec as {
          template: {
            spec: {
              containers: { env: { name: string; value?: string }[] }[];
              volumes: { name: string; secret?: { secretName: string } }[];
            };
          };
        }
      ).template.spec;
      const user = spec.containers[0]!.env.find((e) => e.name === 'LI_KAFKA_SASL__USERNAME')!.value!;
      expect(find(objs, 'KafkaUser', user), d.metadata.name).toBeDefined();
      expect(spec.volumes.find((v) => v.name === 'kafka-password')!.secret!.secretName).toBe(user);
    }
  });

  it('each tenant stream is a KafkaTopic with the settings of topicConfig', () => {
    const objs = rendered.get('production')!;
    for (const stream of STREAMS) {
      const topic = find(objs, 'KafkaTopic', `li.demo.${stream}`)!;
      expect((topic.spec as { config: Record<string, string> }).config).toEqual(
        Object.fromEntries(topicConfig(stream).map((c) => [c.name, c.value])),
      );
    }
    const system = objs.filter(
      (o) => o.kind === 'KafkaTopic' && (o.spec as { topicName: string }).topicName.startsWith('li._system.'),
    );
    expect(system.map((o) => (o.spec as { topicName: string }).topicName).sort()).toEqual([
      'li._system.mcid',
      'li._system.tenants',
    ]);
  });

  it('the PrometheusRule is deploy/prometheus/alerts.yml', () => {
    const rule = find(rendered.get('production')!, 'PrometheusRule', 'li-alerts')!;
    const alerts = parse(readFileSync(join(REPO_ROOT, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: unknown };
    expect((rule.spec as { groups: unknown }).groups).toEqual(alerts.groups);
  });
});

describe('tenant onboarding renders a second tenant', () => {
  let tmp: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'li-k8s-'));
    for (const d of ['base', 'components', 'overlays']) cpSync(join(K8S_DIR, d), join(tmp, d), { recursive: true });
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('adds its topics, ingest, users and grants; the overlay still validates', async () => {
    const t = { ...readTenantsFile('production'), tenants: ['demo', 'acme'] };
    const { files, kustomization } = renderTenants(t, 'http://prometheus:9090');
    const dir = join(tmp, 'overlays/production/tenants');
    rmSync(dir, { recursive: true });
    for (const f of [{ path: 'kustomization.yaml', objects: [kustomization] }, ...files]) {
      const p = join(dir, f.path);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, toYaml(f.objects));
    }
    const objs = renderKustomization(join(tmp, 'overlays/production'));
    expect(await validateAll(objs)).toEqual([]);
    expect(policyViolations(objs)).toEqual([]);
    expect(objs.filter((o) => o.kind === 'KafkaTopic').length).toBe(2 * STREAMS.length + 2);
    const ingests = objs.filter((o) => o.kind === 'Deployment' && o.metadata.name.startsWith('li-ingest-'));
    expect(ingests.map((o) => o.metadata.name).sort()).toEqual(['li-ingest-acme', 'li-ingest-demo']);
    expect(find(objs, 'KafkaUser', 'li-ingest-acme')).toBeDefined();
    const tm = find(objs, 'KafkaUser', 'li-target-match')!;
    const names = (tm.spec as { authorization: { acls: { resource: { name: string } }[] } }).authorization.acls.map(
      (a) => a.resource.name,
    );
    expect(names).toContain('li.acme.events');
    expect(names).toContain('li.target-match.acme+demo');
    const common = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('li-common'))!;
    expect((common.data as Record<string, string>).LI_TENANTS).toBe('acme,demo');
  });
});

describe('the Grafana dashboard', () => {
  it('queries valid PromQL over metrics the services register', () => {
    const exprs = dashboardExpressions();
    const dir = mkdtempSync(join(tmpdir(), 'li-dash-'));
    try {
      // promtool parses each expression as a recording rule: a syntax error fails the check.
      const rules = {
        groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `li:dashboard:${i}`, expr })) }],
      };
      writeFileSync(join(dir, 'rules.yml'), stringify(rules));
      const r = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
      expect(r.stdout + r.stderr).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const sources = spawnSync('grep', ['-rhoE', "['`](li|mcid)_[a-z0-9_]+", 'services', 'libs', '--include=*.ts'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).stdout;
    const registered = new Set(sources.split('\n').map((l) => l.slice(1)));
    const used = new Set(exprs.flatMap((e) => e.match(/\b(li|mcid)_[a-z0-9_]+/g) ?? []));
    expect([...used].filter((m) => !registered.has(m))).toEqual([]);
    const cm = find(rendered.get('production')!, 'ConfigMap', 'li-grafana-dashboard')!;
    const dash = JSON.parse((cm.data as Record<string, string>)['li-mediation.json']!) as {
      panels: { targets?: unknown[] }[];
    };
    expect(dash.panels.flatMap((p) => p.targets ?? []).length).toBe(exprs.length);
  });
});

describe('admf: two instances, one writer', () => {
  type Pod = {
    affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: unknown[] } };
    containers: { env: { name: string; value?: string; valueFrom?: unknown }[]; readinessProbe: unknown }[];
  };
  // production (the local overlay runs one of each on the host network).
  it('2 replicas, rolling, spread, shared group, own ids; the PDB keeps one', () => {
    const objs = rendered.get('production')!;
    const d = find(objs, 'Deployment', 'li-admf')!.spec as {
      replicas: number;
      strategy: unknown;
      template: { spec: Pod };
    };
    expect(d.replicas).toBe(2);
    // maxUnavailable 0: an old pod stops only once a new one is Ready (caught up as a standby).
    expect(d.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
    expect(d.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
      {
        weight: 100,
        podAffinityTerm: {
          topologyKey: 'kubernetes.io/hostname',
          labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'li-admf' } },
        },
      },
    ]);
    const c = d.template.spec.containers[0]!;
    const env = (n: string) => c.env.find((e) => e.name === n);
    expect(env('LI_EVENTS_GROUP_ID')?.value).toBe('li.admf');
    expect(env('LI_INSTANCE_ID')?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    // A standby must count as Ready, or a rollout and a drain would wait for it forever.
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: '/readyz?exclude=writer' } });
    const pdb = find(objs, 'PodDisruptionBudget', 'li-admf')!.spec as Record<string, unknown>;
    expect(pdb.minAvailable).toBe(1);
    expect(pdb.maxUnavailable).toBeUndefined();
  });
});

describe('IPsec gateway component', () => {
  it('charon on the gateway nodes; cc-delivery there, on its VICI socket; production otherwise unchanged', async () => {
    const objs = rendered.get('production-ipsec')!;
    type Pod = {
      hostNetwork?: boolean;
      nodeSelector?: Record<string, string>;
      containers: { env?: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string }[] }[];
      volumes: { name: string; hostPath?: { path: string } }[];
    };
    const pod = (kind: string, name: string) =>
      (find(objs, kind, name)!.spec as { template: { spec: Pod } }).template.spec;
    const gw = pod('DaemonSet', 'li-ipsec-gateway');
    const cc = pod('Deployment', 'li-cc-delivery');
    expect(find(objs, 'DaemonSet', 'li-ipsec-gateway')!.metadata.namespace).toBe('li-mediation');
    expect(gw.hostNetwork).toBe(true);
    expect(gw.nodeSelector).toEqual({ 'li.io/ipsec-gateway': 'true' });
    expect(cc.nodeSelector).toEqual(gw.nodeSelector);
    const hostDir = (p: Pod) => p.volumes.find((v) => v.name === 'charon-run')!.hostPath!.path;
    expect(hostDir(cc)).toBe(hostDir(gw));
    const mount = cc.containers[0]!.volumeMounts.find((m) => m.name === 'charon-run')!.mountPath;
    const socket = cc.containers[0]!.env!.find((e) => e.name === 'LI_IPSEC_VICI_SOCKET')!.value!;
    expect(socket).toBe(`unix://${mount}/charon.vici`);
    const conf = (find(objs, 'ConfigMap', 'li-ipsec-gateway-strongswan')!.data as Record<string, string>)[
      'strongswan.conf'
    ]!;
    expect(conf).toContain(`socket = unix://${hostDir(gw)}/charon.vici`);
    // The DaemonSet is checked like the rest: a misspelt field fails.
    const typo = structuredClone(find(objs, 'DaemonSet', 'li-ipsec-gateway')!);
    (typo.spec as { template: { spec: Record<string, unknown> } }).template.spec.hostNetwrk = true;
    expect((await validateAll([typo])).join()).toMatch(/hostNetwrk/);
    // Everything else is production's.
    const names = (o: K8sObject[]) => o.map((x) => `${x.kind} ${x.metadata.name}`).sort();
    expect(names(objs)).toEqual(
      [
        ...names(rendered.get('production')!),
        'ConfigMap li-ipsec-gateway-strongswan',
        'DaemonSet li-ipsec-gateway',
      ].sort(),
    );
  });
});

describe('network policies', () => {
  type Peer = { ipBlock?: { cidr: string }; podSelector?: unknown; namespaceSelector?: unknown };
  type Rule = { ports?: { port?: number | string }[]; from?: Peer[]; to?: Peer[] };
  type Policy = {
    podSelector: { matchLabels?: Record<string, string> };
    policyTypes: string[];
    ingress?: Rule[];
    egress?: Rule[];
  };
  const policies = () =>
    rendered
      .get('production')!
      .filter((o) => o.kind === 'NetworkPolicy')
      .map((o) => ({ name: o.metadata.name, spec: o.spec as Policy }));
  const selected = (p: Policy) => JSON.stringify(p.podSelector.matchLabels ?? {});
  // "Anywhere": no peer list, or an ipBlock of every address.
  const open = (peers: Peer[] | undefined) => !peers || peers.some((x) => x.ipBlock?.cidr === '0.0.0.0/0');

  it('deny by default for every workload', () => {
    const deny = policies().find((p) => !p.spec.ingress && !p.spec.egress)!;
    expect(deny.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/part-of': 'li-mediation' });
    expect(deny.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
  });

  it('only cc-delivery leaves the cluster (mcid-store to its CDS on 3868 only)', () => {
    const leaving = policies().flatMap((p) =>
      (p.spec.egress ?? []).filter((r) => open(r.to)).map((r) => ({ who: selected(p.spec), ports: r.ports })),
    );
    expect(leaving).toEqual([
      { who: '{"app.kubernetes.io/name":"li-cc-delivery"}', ports: undefined },
      {
        who: '{"app.kubernetes.io/name":"li-mcid-store"}',
        ports: [
          { protocol: 'TCP', port: 3868 },
          { protocol: 'SCTP', port: 3868 },
        ],
      },
    ]);
  });

  it('only ingest takes traffic from outside, and admf the operator API', () => {
    const fromAnywhere = policies().flatMap((p) =>
      (p.spec.ingress ?? [])
        .filter((r) => open(r.from))
        .map((r) => ({ who: selected(p.spec), ports: r.ports?.map((x) => x.port) })),
    );
    expect(fromAnywhere).toEqual([
      { who: '{"app.kubernetes.io/name":"li-admf"}', ports: [8080] },
      { who: '{"app.kubernetes.io/component":"ingest"}', ports: [5060, 5060, 8090, 30000] },
    ]);
  });
});
