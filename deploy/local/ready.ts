// Readiness of the local infra by protocol round trips: a Kafka Metadata request
// (describeCluster) and a schema-registry API call. An open port is not enough:
// Kafka accepts connections before it serves requests.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { kafkaSecurityOptions } from '@li/bus';
import { Kafka, logLevel } from 'kafkajs';

const { values } = parseArgs({
  options: { timeout: { type: 'string', default: '120' }, pid: { type: 'string', multiple: true, default: [] } },
});
const brokers = (process.env.LI_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const registryUrl = process.env.LI_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7';
const deadline = Date.now() + Number(values.timeout) * 1000;
const pids = (values.pid ?? []).map(Number).filter((p) => p > 0);
// As the bootstrap admin, over the SASL_SSL listener: the only one clients have.
const run = process.env.LI_INFRA_RUN ?? join(import.meta.dirname, '../../.run/infra');
const adminSecurity = {
  tls: { caFile: join(run, 'tls/ca.pem') },
  sasl: { mechanism: 'scram-sha-512', username: 'admin', passwordFile: join(run, 'credentials/admin.password') },
} as const;

function processesAlive(): boolean {
  return pids.every((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

async function kafkaReady(): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'li-infra-ready',
    brokers,
    ...kafkaSecurityOptions(adminSecurity),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function registryReady(): Promise<boolean> {
  try {
    const res = await fetch(`${registryUrl}/subjects`, { signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

const started = Date.now();
let kafka = false;
let registry = false;
while (Date.now() < deadline) {
  if (pids.length > 0 && !processesAlive()) {
    console.error('[infra] a process exited during start-up');
    process.exit(1);
  }
  kafka ||= await kafkaReady();
  registry ||= await registryReady();
  if (kafka && registry) {
    console.error(
      `[infra] kafka ${brokers.join(',')} and registry ${registryUrl} answer (${Date.now() - started} ms of probing)`,
    );
    process.exit(0);
  }
  await new Promise((r) => setTimeout(r, 250));
}
console.error(`[infra] not ready: kafka=${kafka} registry=${registry}`);
process.exit(1);
