// Policy checks on rendered manifests, each a regression CI must catch: a container that may run
// as root, one without limits or probes, a secret value sitting in a ConfigMap (or a literal env).
import type { K8sObject } from './render.ts';

type Container = {
  name: string;
  image?: string;
  resources?: { limits?: Record<string, unknown> };
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
  env?: { name: string; value?: string }[];
};
type PodSpec = {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers?: Container[];
  initContainers?: Container[];
};

// A registry host (with a dot, a port or localhost), a path and a tag or digest.
const FULL_IMAGE = /^(localhost|[^/]*[.:][^/]*)\/[^:@\s]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/;
const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'ReplicaSet']);

function podSpecOf(o: K8sObject): PodSpec | undefined {
  if (o.kind === 'Pod') return o.spec as PodSpec;
  if (o.kind === 'CronJob') {
    return (o.spec as { jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } }).jobTemplate?.spec?.template?.spec;
  }
  if (WORKLOADS.has(o.kind)) return (o.spec as { template?: { spec?: PodSpec } }).template?.spec;
  return undefined;
}

// Names that announce a credential; `…_FILE`/`…File` settings hold a path to one, which is fine.
const SECRET_NAME = /(password|passwd|secret|token|credential|private[-_.]?key|api[-_.]?key)/i;
const isPathSetting = (name: string, value: string) => /(_FILE|File|_DIR|Dir)$/.test(name) && value.startsWith('/');

function secretValues(objects: readonly K8sObject[]): string[] {
  const values: string[] = [];
  for (const o of objects) {
    if (o.kind !== 'Secret') continue;
    for (const v of Object.values((o.data as Record<string, string>) ?? {}))
      values.push(Buffer.from(v, 'base64').toString());
    for (const v of Object.values((o.stringData as Record<string, string>) ?? {})) values.push(v);
  }
  // Short values (a username like "li-keda") would match by chance: only long ones count.
  return values.filter((v) => v.length >= 12);
}

/**
 * A container allowed to run as uid 0, named as in the violations ("DaemonSet x container y"),
 * with the only capabilities it may add. Every other check still applies to it.
 */
export type RootException = { container: string; capabilities: readonly string[] };

/** Every policy violation in a rendered overlay ([] when clean). */
export function policyViolations(objects: readonly K8sObject[], rootAllowed: readonly RootException[] = []): string[] {
  const out: string[] = [];
  const secrets = secretValues(objects);
  for (const o of objects) {
    const id = `${o.kind} ${o.metadata.name}`;
    const pod = podSpecOf(o);
    if (pod) {
      const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
      if (containers.length === 0) out.push(`${id}: no containers`);
      for (const c of containers) {
        const cid = `${id} container ${c.name}`;
        const sc = c.securityContext ?? {};
        const nonRoot = sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
        const uid = sc.runAsUser ?? pod.securityContext?.runAsUser;
        const exception = rootAllowed.find((x) => x.container === cid);
        if (!exception) {
          if (nonRoot !== true) out.push(`${cid}: runAsNonRoot is not true`);
          if (uid === undefined || uid === 0) out.push(`${cid}: runAsUser is unset or 0 (root)`);
        }
        // Added capabilities: none, or the exception's own (and then every other one dropped).
        const added = sc.capabilities?.add ?? [];
        const extra = added.filter((cap) => !exception?.capabilities.includes(cap));
        if (extra.length > 0) out.push(`${cid}: adds capabilities ${extra.join(', ')}`);
        if (exception && !sc.capabilities?.drop?.includes('ALL')) out.push(`${cid}: does not drop ALL capabilities`);
        if (sc.privileged) out.push(`${cid}: privileged`);
        if (sc.allowPrivilegeEscalation !== false) out.push(`${cid}: allowPrivilegeEscalation is not false`);
        if (sc.readOnlyRootFilesystem !== true) out.push(`${cid}: readOnlyRootFilesystem is not true`);
        if (!FULL_IMAGE.test(c.image ?? ''))
          out.push(
            `${cid}: image ${c.image} is not registry/name:tag (a short name resolves by the node's search list)`,
          );
        if (!c.resources?.limits?.cpu || !c.resources?.limits?.memory) out.push(`${cid}: no cpu and memory limits`);
        if (!pod.initContainers?.includes(c)) {
          if (!c.readinessProbe) out.push(`${cid}: no readinessProbe`);
          if (!c.livenessProbe) out.push(`${cid}: no livenessProbe`);
        }
        for (const e of c.env ?? []) {
          if (e.value !== undefined && SECRET_NAME.test(e.name) && !isPathSetting(e.name, e.value)) {
            out.push(`${cid}: env ${e.name} holds a literal value (use a Secret file or secretKeyRef)`);
          }
        }
      }
    }
    if (o.kind === 'ConfigMap') {
      for (const [k, v] of Object.entries((o.data as Record<string, string>) ?? {})) {
        if (SECRET_NAME.test(k) && !isPathSetting(k, v)) out.push(`${id}: key ${k} looks like a secret`);
        if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v)) out.push(`${id}: key ${k} holds a private key`);
        if (secrets.some((s) => v.includes(s))) out.push(`${id}: key ${k} holds the value of a Secret`);
      }
    }
  }
  return out;
}
