// cc-delivery settings; each has its LI_* variable (camelCase -> LI_SNAKE_CASE) or a YAML key.
import { CommonConfig } from '@li/runtime';
import Type from 'typebox';

export const Config = Type.Object({
  ...CommonConfig.properties,
  metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9465 }),
  tenants: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'tenant ids this deployment serves' }),
  operatorIdentifier: Type.String({ minLength: 1, maxLength: 5, description: 'in keep-alive PDU headers' }),
  networkElementIdentifier: Type.String({ default: 'mdf1' }),
  timestampFormat: Type.Union([Type.Literal('GENERALIZED_TIME'), Type.Literal('MICROSECOND')], {
    default: 'GENERALIZED_TIME',
  }),
  /**
   * Directory of secret files (mounted Kubernetes secrets), one sub-directory per tenant: a LEMF's
   * credentialRef / tls.*Ref names a file in <secretsDir>/<its tenant>/, never anywhere else.
   */
  secretsDir: Type.String({ default: '/var/run/secrets/li' }),
  /**
   * The operator's PIPE allow-list: entry name → program. A PIPE LEMF names an entry; the program
   * runs with an empty environment and, if set, as uid/gid. Set in the YAML config file
   * (LI_CONFIG_FILE); default none, so no PIPE LEMF runs anything.
   */
  pipeCommands: Type.Record(
    Type.String(),
    Type.Object(
      {
        command: Type.String({ pattern: '^/', description: 'absolute path of the program' }),
        args: Type.Optional(Type.Array(Type.String())),
        uid: Type.Optional(Type.Integer({ minimum: 0 })),
        gid: Type.Optional(Type.Integer({ minimum: 0 })),
      },
      { additionalProperties: false },
    ),
    { default: {}, description: 'entry name → {command (absolute path), args, uid, gid}; YAML config file only' },
  ),
  /** Largest PDU a LEMF may send back (keep-alive, acknowledgement); a longer one closes the connection. */
  lemfReadMaxPduBytes: Type.Integer({ minimum: 64, default: 64 * 1024 }),
  /** Bytes a LEMF may send back on one connection at once, before lemfReadBytesPerSecond applies. */
  lemfReadBurstBytes: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
  /** Sustained bytes per second a LEMF may send back on one connection (plus 1 KiB per record sent, for acks). */
  lemfReadBytesPerSecond: Type.Integer({ minimum: 1024, default: 64 * 1024 }),
  /**
   * ETSI TCP LEMFs without PDU acknowledgement: records count as delivered (offsets committed)
   * only once a keep-alive written after them is answered; one goes out this long after the last
   * write, so commits do not wait for the keep-alive period when traffic pauses.
   */
  keepaliveConfirmIdleMs: Type.Integer({ minimum: 1, default: 200 }),
  /**
   * charon's VICI socket (the strongSwan sidecar's or the node gateway's, docs/IPSEC.md): LEMFs
   * with ipsec settings get their tunnel through it. Empty: no IPsec here, and such a LEMF
   * receives nothing (never in clear).
   */
  ipsecViciSocket: Type.String({ default: '' }),
  /** How often the tunnels' state is read from charon (li_cc_delivery_ipsec_sa_up). */
  ipsecPollMs: Type.Integer({ minimum: 100, default: 2_000 }),
  maxBatchRecords: Type.Integer({ minimum: 1, default: 256 }),
  /** Records queued for one LEMF above which its consumer waits (a slow LEMF holds only its own group). */
  highWaterRecords: Type.Integer({ minimum: 1, default: 20_000 }),
  /** How often each LEMF group's consumer lag is measured (li_cc_delivery_consumer_lag_records). */
  lagIntervalMs: Type.Integer({ minimum: 100, default: 5_000 }),
  /** On stop: how long open files and unconfirmed records get to be delivered and committed. */
  shutdownDrainMs: Type.Integer({ minimum: 0, default: 10_000 }),
});
