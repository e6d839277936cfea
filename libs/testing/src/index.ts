// Helpers for tests that talk to the local broker and registry (deploy/local/infra.sh).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  applyGrants,
  deploymentGrants,
  type KafkaSecurity,
  kafkaSecurityOptions,
  operatorGrants,
  type ServiceName,
} from '@li/bus';
import { createLogger, type Logger } from '@li/log';
import { type Admin, Kafka, logLevel } from 'kafkajs';

export interface TestInfra {
  brokers: string[];
  registryUrl: string;
  /** The bootstrap admin's TLS and SASL settings: for a test's own set-up and inspection. */
  security: KafkaSecurity;
}

const REPO_ROOT = join(import.meta.dirname, '../../..');

/** Where deploy/local/infra.sh keeps its state: the CA, the principals' password files. */
export function infraRunDir(): string {
  return process.env.LI_INFRA_RUN ?? join(REPO_ROOT, '.run/infra');
}

/** TLS and SCRAM settings of a principal of the local infra (its password file made by infra.sh). */
export function localSecurity(principal: string): KafkaSecurity {
  const run = infraRunDir();
  return {
    tls: { caFile: join(run, 'tls/ca.pem') },
    sasl: {
      mechanism: 'scram-sha-512',
      username: principal,
      passwordFile: join(run, `credentials/${principal}.password`),
    },
  };
}

export function testInfra(): TestInfra {
  return {
    brokers: (process.env.LI_KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    registryUrl: process.env.LI_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
    security: localSecurity('admin'),
  };
}

/** The LI_KAFKA_* variables that make a service connect as `principal`. */
export function securityEnv(principal: string): Record<string, string> {
  const { tls, sasl } = localSecurity(principal);
  return {
    LI_KAFKA_TLS__ENABLED: 'true',
    LI_KAFKA_TLS__CA_FILE: tls!.caFile!,
    LI_KAFKA_SASL__MECHANISM: sasl!.mechanism,
    LI_KAFKA_SASL__USERNAME: sasl!.username,
    LI_KAFKA_SASL__PASSWORD_FILE: sasl!.passwordFile,
  };
}

/** A kafkajs admin client connected as the bootstrap admin; the caller disconnects it. */
export async function adminClient(clientId = 'li-test-admin'): Promise<Admin> {
  const infra = testInfra();
  const admin = new Kafka({
    clientId,
    brokers: infra.brokers,
    ...kafkaSecurityOptions(infra.security),
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  return admin;
}

/** The local principal of a service's deployments (infra.sh makes its password). */
export const localPrincipal = (service: ServiceName) => `li-${service}`;

/**
 * Grants a service's local principal the ACLs of a deployment serving `tenants` (from the one
 * access description in @li/bus), as onboarding does for a real deployment.
 */
export async function grantDeployment(service: ServiceName, tenants: readonly string[]): Promise<void> {
  const admin = await adminClient();
  try {
    const grants = service === 'admf' ? operatorGrants() : deploymentGrants(service, tenants);
    await applyGrants(admin, localPrincipal(service), grants);
  } finally {
    await admin.disconnect();
  }
}

const admfDeployment = (name: string, tenants: readonly string[]) => ({
  LI_EVENTS_GROUP_ID: `li.admf.${name}`,
  LI_INSTANCE_ID: `test-${name}`,
  ...(tenants.length > 0 ? { LI_SERVED_TENANTS: tenants.join(',') } : {}),
});

/**
 * A service's environment against the local infra, as one deployment of `service` for `tenants`
 * (admf: none for a deployment serving every tenant):
 * its own credentials with exactly that deployment's ACLs, metrics on a free loopback port,
 * errors only in the log (DEBUG_LOG_LEVEL overrides), and `extra` on top.
 */
export async function serviceEnv(
  service: ServiceName,
  tenants: readonly string[],
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  await grantDeployment(service, tenants);
  const infra = testInfra();
  return {
    LI_KAFKA_BROKERS: infra.brokers.join(','),
    LI_SCHEMA_REGISTRY_URL: infra.registryUrl,
    ...securityEnv(localPrincipal(service)),
    LI_METRICS_PORT: '0',
    LI_METRICS_HOST: '127.0.0.1',
    LI_LOG_LEVEL: process.env.DEBUG_LOG_LEVEL ?? 'error',
    // Each test's admf is a deployment of its own: admfs of tests that run at the same time must
    // not share the account-event group (each would be handed partitions it does not read) nor
    // the transactional id li.admf.<instance> (each would fence the other's transactions). Given
    // its tests' tenants, it serves only those: it must not apply (and write) account events of
    // another test's tenant, nor read every tenant on the shared broker at start.
    ...(service === 'admf' ? admfDeployment(randomBytes(5).toString('hex'), tenants) : {}),
    ...extra,
  };
}

/** `p`, or a rejection naming `what` once `ms` have passed: a hang then says where it is. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh tenant id per test, so tests never see each other's topics. */
export function uniqueTenant(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A logger that keeps its lines in memory, for asserting on them. */
export function memoryLogger(service = 'test'): { log: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ service, level: 'debug', destination });
  return {
    log,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim().length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 15_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The pinned Node 26 (the `node` devDependency), for tests that start TypeScript child processes. */
export function pinnedNode(): string {
  const candidate = join(import.meta.dirname, '../../../node_modules/node/bin/node');
  return existsSync(candidate) ? candidate : process.execPath;
}
