// admf's settings (LI_* variables, see @li/config) and the TLS material they name.
import { readFileSync } from 'node:fs';
import { validateTenant } from '@li/bus';
import { ConfigError } from '@li/config';
import { CommonConfig } from '@li/runtime';
import Type from 'typebox';

export const Config = Type.Object({
  ...CommonConfig.properties,
  metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9460 }),
  http: Type.Object(
    {
      host: Type.String({ default: '0.0.0.0' }),
      port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
      tlsCertFile: Type.String({ default: '', description: 'PEM certificate chain; with tlsKeyFile, serve HTTPS' }),
      tlsKeyFile: Type.String({ default: '', description: 'PEM private key (a mounted secret); empty: plain HTTP' }),
    },
    { default: {} },
  ),
  tokensFile: Type.String({
    minLength: 1,
    description: 'YAML/JSON file: token → {subject, tenant, role} (a mounted secret)',
  }),
  tariffsFile: Type.String({ default: '', description: 'price list; empty: the shipped config/tariffs.json' }),
  /** The entry names of cc-delivery's pipeCommands allow-list: a PIPE LEMF must name one. */
  pipeCommands: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: "entry names of cc-delivery's PIPE allow-list (comma-separated); none: PIPE LEMFs are refused",
  }),
  /** The web console (console.ts): its build directory (empty: the one built beside admf) and cc-delivery's metrics. */
  console: Type.Object(
    {
      dir: Type.String({
        default: '',
        description: "the console's production build; empty: services/admf/console/dist",
      }),
      deliveryMetricsUrls: Type.Array(Type.String({ minLength: 1 }), {
        default: [],
        description: "cc-delivery instances' /metrics URLs (comma-separated), read for the LEMF status",
      }),
    },
    { default: {} },
  ),
  /**
   * The tenants this deployment serves (an admf deployment per group of tenants): it loads,
   * follows and creates only these. Empty: every tenant on the broker. Not LI_TENANTS, which the
   * per-tenant services' shared settings (li-common) set and admf's pods read too. Two
   * deployments must not serve one tenant: each would write its audit chain from its own head.
   */
  servedTenants: Type.Array(Type.String({ minLength: 1 }), {
    default: [],
    description: 'tenant ids this deployment serves (comma-separated); empty: every tenant',
  }),
  /**
   * Prefix of the account-event consumer groups: each tenant's events are read by its own group
   * `<eventsGroupId>.<tenant>`, so a new tenant never rebalances the others. One per admf
   * deployment (li.admf.<name> for more): deployments sharing groups would split the events.
   */
  eventsGroupId: Type.String({ pattern: '^li\\.admf(\\.[a-z0-9.+-]+)?$', default: 'li.admf' }),
  /**
   * How long the instances of a deployment wait for a silent writer before electing another
   * (its election group and transactional id are `<eventsGroupId>._writer`). At least the
   * broker's group.min.session.timeout.ms (6 s by default).
   */
  writerSessionTimeoutMs: Type.Integer({ minimum: 1000, maximum: 300_000, default: 10_000 }),
});

/** Both files or neither: one without the other is a configuration error, not plain HTTP. */
export function tlsOf(http: { tlsCertFile: string; tlsKeyFile: string }): { key: Buffer; cert: Buffer } | undefined {
  if (!http.tlsCertFile && !http.tlsKeyFile) return undefined;
  if (!http.tlsCertFile || !http.tlsKeyFile) {
    throw new ConfigError([
      {
        key: http.tlsCertFile ? 'http.tlsKeyFile' : 'http.tlsCertFile',
        env: http.tlsCertFile ? 'LI_HTTP__TLS_KEY_FILE' : 'LI_HTTP__TLS_CERT_FILE',
        expected: 'set together with the other of http.tlsCertFile and http.tlsKeyFile',
      },
    ]);
  }
  return { key: readFileSync(http.tlsKeyFile), cert: readFileSync(http.tlsCertFile) };
}

/** Whether this deployment serves a tenant (config servedTenants; empty: every one); a bad id stops admf at start. */
export function tenantFilter(tenants: readonly string[]): (tenant: string) => boolean {
  const valid = (t: string) => {
    try {
      return validateTenant(t) === t;
    } catch {
      return false;
    }
  };
  const problems = tenants.flatMap((t, i) =>
    valid(t)
      ? []
      : [
          {
            key: `servedTenants[${i}]`,
            env: 'LI_SERVED_TENANTS',
            expected: '1-32 lower-case letters, digits or inner hyphens',
          },
        ],
  );
  if (problems.length > 0) throw new ConfigError(problems);
  if (tenants.length === 0) return () => true;
  const served = new Set(tenants);
  return (tenant) => served.has(tenant);
}
