// admf's settings (LI_* variables, see @li/config) and the TLS material they name.
import { readFileSync } from 'node:fs';
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
   * Prefix of the account-event consumer groups: each tenant's events are read by its own group
   * `<eventsGroupId>.<tenant>`, so a new tenant never rebalances the others. One per admf
   * deployment (li.admf.<name> for more): deployments sharing groups would split the events.
   */
  eventsGroupId: Type.String({ pattern: '^li\\.admf(\\.[a-z0-9.+-]+)?$', default: 'li.admf' }),
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
