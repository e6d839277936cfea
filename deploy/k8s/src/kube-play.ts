// Runs the local overlay's workloads for real with `podman kube play` (no Kubernetes API server
// on these machines): the rendered Deployments and ConfigMaps, the Secrets the overlay expects,
// with the flags podman needs here (deploy/image/containers.conf, runc, cgroupfs, vfs).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './generate.ts';
import type { K8sObject } from './render.ts';

const PODMAN_FLAGS = ['--runtime', 'runc', '--cgroup-manager=cgroupfs', '--storage-driver', 'vfs'];
const CONTAINERS_CONF = join(REPO_ROOT, 'deploy/image/containers.conf');

export function podman(args: string[], timeoutMs = 300_000): { status: number; out: string } {
  const r = spawnSync('podman', [...PODMAN_FLAGS, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, CONTAINERS_CONF },
  });
  return { status: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

type Env = { name: string; value?: string };
type Container = { name: string; env?: Env[]; ports?: { containerPort: number; name?: string }[] };
type PodSpec = { containers: Container[] };

const podSpec = (d: K8sObject) => (d.spec as { template: { spec: PodSpec } }).template.spec;

type Volume = {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  hostPath?: unknown;
};

/**
 * Secret volumes become host directories holding the same files: podman 4.3 (Debian 12) writes
 * a kube Secret's values into the mounted files still base64-encoded, and panics on a secret
 * volume without `optional`. `secrets` maps each Secret name to its files; each is written under
 * `dir`, readable by the containers' uid.
 */
function secretsAsHostPaths(pod: { volumes?: Volume[] }, dir: string, secrets: Record<string, Record<string, string>>) {
  for (const v of pod.volumes ?? []) {
    if (!v.secret) continue;
    const data = secrets[v.secret.secretName] ?? {};
    const path = join(dir, v.secret.secretName);
    mkdirSync(path, { recursive: true, mode: 0o755 });
    for (const [key, value] of Object.entries(data)) {
      const file = v.secret.items?.find((i) => i.key === key)?.path ?? key;
      if (!v.secret.items || v.secret.items.some((i) => i.key === key))
        writeFileSync(join(path, file), value, { mode: 0o644 });
    }
    delete v.secret;
    v.hostPath = { path, type: 'Directory' };
  }
}

/**
 * What podman runs of a rendered overlay: workloads and ConfigMaps (Services, budgets
 * and network policies mean nothing without a cluster). `env` sets variables of the ConfigMap
 * li-common; `containerEnv` of single containers; every numeric LI_*PORT is moved to a port of
 * `port()` so the run never collides with anything else on the host.
 */
export function forPodman(
  objects: readonly K8sObject[],
  o: {
    common: Record<string, string>;
    containerEnv: Record<string, Record<string, string>>;
    port: () => Promise<number>;
    secrets: Record<string, Record<string, string>>;
    secretsDir: string;
  },
): Promise<{ objects: K8sObject[]; ports: Record<string, Record<string, number>> }> {
  return (async () => {
    const out: K8sObject[] = [];
    const ports: Record<string, Record<string, number>> = {};
    for (const src of objects) {
      if (!['Deployment', 'ConfigMap'].includes(src.kind)) continue;
      const obj = structuredClone(src);
      if (obj.kind === 'ConfigMap' && obj.metadata.name.startsWith('li-common')) {
        Object.assign(obj.data as Record<string, string>, o.common);
      }
      if (obj.kind === 'Deployment') {
        secretsAsHostPaths(podSpec(obj) as { volumes?: Volume[] }, o.secretsDir, o.secrets);
        for (const c of podSpec(obj).containers) {
          const moved = new Map<number, number>();
          ports[c.name] = {};
          for (const e of c.env ?? []) {
            if (!/^LI_.*PORT$/.test(e.name) || !/^\d+$/.test(e.value ?? '')) continue;
            const old = Number(e.value);
            const now = moved.get(old) ?? (await o.port());
            moved.set(old, now);
            e.value = String(now);
            ports[c.name]![e.name] = now;
          }
          // On the host network podman 4.3 refuses declared ports ("PortMappings can only be used
          // with Bridge"), and runs probes with curl inside the container (the image has none):
          // the test asks /readyz itself, on the moved metrics port.
          delete c.ports;
          delete (c as { readinessProbe?: unknown }).readinessProbe;
          delete (c as { livenessProbe?: unknown }).livenessProbe;
          delete (c as { startupProbe?: unknown }).startupProbe;
          c.env ??= [];
          for (const [name, value] of Object.entries(o.containerEnv[c.name] ?? {})) {
            const e = c.env.find((x) => x.name === name);
            if (e) {
              e.value = value;
              delete (e as { valueFrom?: unknown }).valueFrom;
            } else c.env.push({ name, value });
          }
        }
      }
      out.push(obj);
    }
    return { objects: out, ports };
  })();
}
