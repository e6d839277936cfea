// Kafka principals and ACLs from the one access description (@li/bus access.ts).
//
//   npm run kafka:access -- tenant add <tenant>        grant each local service principal a deployment for <tenant>
//   npm run kafka:access -- tenant remove <tenant>     revoke every ACL that concerns <tenant>, for every principal
//   npm run kafka:access -- grant <service> <t1,t2,…> [--principal NAME]
//   npm run kafka:access -- revoke-principal NAME
//   npm run kafka:access -- show <service> <t1,t2,…> [--principal NAME] [--kafkauser]
//   npm run kafka:access -- user add|remove NAME       SCRAM credentials on the local broker (infra.sh user)
//
// Against the local infra it connects as its bootstrap admin; elsewhere set LI_KAFKA_BROKERS and
// LI_KAFKA_TLS__* / LI_KAFKA_SASL__* (password from a file) for an admin principal, as services do.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  applyGrants,
  deploymentGrants,
  type Grant,
  type KafkaSecurity,
  kafkaSecurityOptions,
  operatorGrants,
  revokePrincipal,
  revokeTenant,
  SERVICES,
  type ServiceName,
} from '@li/bus';
import { localPrincipal, localSecurity } from '@li/testing';
import { Kafka, logLevel } from 'kafkajs';

const root = join(import.meta.dirname, '..');
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { principal: { type: 'string' }, kafkauser: { type: 'boolean', default: false } },
});
const [command, ...args] = positionals;

function fail(message: string): never {
  console.error(`kafka-access: ${message}`);
  process.exit(2);
}

function adminSecurity(): KafkaSecurity {
  const env = process.env;
  if (!env.LI_KAFKA_SASL__USERNAME) return localSecurity('admin');
  return {
    ...(env.LI_KAFKA_TLS__ENABLED === 'true'
      ? { tls: { ...(env.LI_KAFKA_TLS__CA_FILE ? { caFile: env.LI_KAFKA_TLS__CA_FILE } : {}) } }
      : {}),
    sasl: {
      mechanism: (env.LI_KAFKA_SASL__MECHANISM ?? 'scram-sha-512') as 'scram-sha-512',
      username: env.LI_KAFKA_SASL__USERNAME,
      passwordFile:
        env.LI_KAFKA_SASL__PASSWORD_FILE ?? fail('LI_KAFKA_SASL__PASSWORD_FILE is required with a username'),
    },
  };
}

function serviceOf(name: string | undefined): ServiceName {
  if (!name || !(SERVICES as readonly string[]).includes(name)) fail(`service must be one of ${SERVICES.join(', ')}`);
  return name as ServiceName;
}

function grantsOf(service: ServiceName, tenants: string[]): Grant[] {
  return service === 'admf' ? operatorGrants() : deploymentGrants(service, tenants);
}

async function withAdmin<T>(f: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const kafka = new Kafka({
    clientId: 'li-kafka-access',
    brokers: (process.env.LI_KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    ...kafkaSecurityOptions(adminSecurity()),
    logLevel: logLevel.ERROR,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await f(admin);
  } finally {
    await admin.disconnect();
  }
}

/** A Strimzi KafkaUser with these grants, for the Kubernetes manifests. */
function kafkaUser(principal: string, grants: Grant[]): string {
  const lines = [
    'apiVersion: kafka.strimzi.io/v1beta2',
    'kind: KafkaUser',
    'metadata:',
    `  name: ${principal}`,
    '  labels: { strimzi.io/cluster: li-kafka }',
    'spec:',
    '  authentication: { type: scram-sha-512 }',
    '  authorization:',
    '    type: simple',
    '    acls:',
  ];
  const kind = { TOPIC: 'topic', GROUP: 'group', TRANSACTIONAL_ID: 'transactionalId' } as const;
  const pattern = { LITERAL: 'literal', PREFIX: 'prefix', PREFIXED: 'prefix' } as const;
  for (const g of grants) {
    const ops = g.operations.map((o) => o[0] + o.slice(1).toLowerCase()).join(', ');
    lines.push(
      `      - resource: { type: ${kind[g.resource]}, name: "${g.name}", patternType: ${pattern[g.pattern]} }`,
      `        operations: [${ops}]`,
    );
  }
  return lines.join('\n');
}

switch (command) {
  case 'tenant': {
    const [action, tenant] = args;
    if (!tenant) fail('usage: tenant add|remove <tenant>');
    if (action === 'add') {
      const n = await withAdmin(async (admin) => {
        let count = 0;
        for (const service of SERVICES) {
          if (service === 'admf') continue;
          count += await applyGrants(admin, localPrincipal(service), grantsOf(service, [tenant]));
        }
        return count;
      });
      console.log(
        `tenant ${tenant}: ${n} ACLs for the local deployments (${SERVICES.filter((s) => s !== 'admf')
          .map(localPrincipal)
          .join(', ')})`,
      );
    } else if (action === 'remove') {
      const n = await withAdmin((admin) => revokeTenant(admin, tenant));
      console.log(`tenant ${tenant}: ${n} ACLs revoked`);
    } else fail('usage: tenant add|remove <tenant>');
    break;
  }
  case 'grant':
  case 'show': {
    const service = serviceOf(args[0]);
    const tenants = (args[1] ?? '').split(',').filter(Boolean);
    const principal = values.principal ?? localPrincipal(service);
    const grants = grantsOf(service, tenants);
    if (command === 'show') {
      if (values.kafkauser) console.log(kafkaUser(principal, grants));
      else for (const g of grants) console.log(`${g.resource} ${g.pattern} ${g.name}: ${g.operations.join(',')}`);
    } else {
      const n = await withAdmin((admin) => applyGrants(admin, principal, grants));
      console.log(`${principal}: ${n} ACLs for ${service} serving ${tenants.join(',') || 'every tenant'}`);
    }
    break;
  }
  case 'revoke-principal': {
    const principal = args[0] ?? fail('usage: revoke-principal NAME');
    const n = await withAdmin((admin) => revokePrincipal(admin, principal));
    console.log(`${principal}: ${n} ACLs revoked`);
    break;
  }
  case 'user': {
    const r = spawnSync('bash', [join(root, 'deploy/local/infra.sh'), 'user', ...args], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
    break;
  }
  default:
    fail(
      'usage: tenant add|remove <t> | grant|show <service> <tenants> | revoke-principal NAME | user add|remove NAME',
    );
}
