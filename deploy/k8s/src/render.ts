// Renders an overlay with `kubectl kustomize` (kustomize built into kubectl) into plain objects.
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

/** kubectl from $KUBECTL or the PATH. */
function kubectl(): string {
  const bin = process.env.KUBECTL ?? 'kubectl';
  const r = spawnSync(bin, ['version', '--client=true'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl not found (${bin}): install it or set KUBECTL (docs/DEPLOY.md)`);
  return bin;
}

function parseObjects(yamlText: string): K8sObject[] {
  return parseAllDocuments(yamlText)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`YAML: ${d.errors[0]!.message}`);
      return d.toJSON() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** `kubectl kustomize DIR`, parsed; throws with kubectl's message when the render fails. */
export function renderKustomization(dir: string): K8sObject[] {
  const r = spawnSync(kubectl(), ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir}: ${r.stderr.trim()}`);
  return parseObjects(r.stdout);
}
