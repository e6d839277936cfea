// How a client proves who it is to Kafka: TLS (the CA to trust, optionally a client certificate)
// and SASL. Secrets are read from files (mounted secrets), never taken from a command line or
// from the environment's values, and never logged.
import { readFileSync } from 'node:fs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { BusError } from './errors.ts';

export const SASL_MECHANISMS = ['scram-sha-512', 'scram-sha-256', 'plain'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaSecurity {
  /** TLS to the brokers. Files are PEM; without caFile the system's CAs are trusted. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  sasl?: { mechanism: SaslMechanism; username: string; passwordFile: string };
}

function readSecret(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    // The path is configuration, not a secret; the file's content never appears here.
    throw new BusError('BUS_ERR_SECURITY', `cannot read ${what} (${path}): ${(err as NodeJS.ErrnoException).code}`);
  }
}

/** The `ssl` and `sasl` options of a kafkajs client for these settings. */
export function kafkaSecurityOptions(security: KafkaSecurity | undefined): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  const tls = security?.tls;
  if (tls) {
    if (Boolean(tls.certFile) !== Boolean(tls.keyFile)) {
      throw new BusError('BUS_ERR_SECURITY', 'a Kafka client certificate needs both certFile and keyFile');
    }
    out.ssl = {
      rejectUnauthorized: true,
      ...(tls.caFile ? { ca: [readSecret(tls.caFile, 'the Kafka CA file')] } : {}),
      ...(tls.certFile && tls.keyFile
        ? {
            cert: readSecret(tls.certFile, 'the Kafka client certificate'),
            key: readSecret(tls.keyFile, 'the Kafka client key'),
          }
        : {}),
    };
  }
  const sasl = security?.sasl;
  if (sasl) {
    if (!(SASL_MECHANISMS as readonly string[]).includes(sasl.mechanism)) {
      throw new BusError('BUS_ERR_SECURITY', `unknown SASL mechanism: expected ${SASL_MECHANISMS.join(', ')}`);
    }
    if (!sasl.username) throw new BusError('BUS_ERR_SECURITY', 'SASL needs a username');
    if (!tls && sasl.mechanism === 'plain') {
      throw new BusError('BUS_ERR_SECURITY', 'SASL PLAIN without TLS would send the password in clear');
    }
    const password = readSecret(sasl.passwordFile, 'the Kafka password file').toString('utf8').trim();
    if (!password) throw new BusError('BUS_ERR_SECURITY', `the Kafka password file is empty (${sasl.passwordFile})`);
    out.sasl = { mechanism: sasl.mechanism, username: sasl.username, password } as SASLOptions;
  }
  return out;
}
