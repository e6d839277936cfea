// What every service's main.ts shares: load and validate configuration, make the logger,
// the bus and the probe server, start the service, and stop it cleanly on SIGTERM/SIGINT
// (finish the work in hand, leave consumer groups, close connections).
import {
  type Bus,
  createBus,
  isBusError,
  type KafkaSecurity,
  PARTITIONS_ENTRY,
  type TopicLayout,
  topicLayout,
} from '@li/bus';
import { ConfigError, loadConfig } from '@li/config';
import { createLogger, type Logger } from '@li/log';
import { type Check, createRegistry, startProbeServer } from '@li/metrics';
import type { Registry } from 'prom-client';
import Type from 'typebox';

/** Keys every service has; a service's schema extends this. */
export const CommonConfig = Type.Object({
  kafkaBrokers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: ['127.0.0.1:9092'] }),
  kafkaTls: Type.Object(
    {
      enabled: Type.Boolean({ default: false }),
      /** PEM CA bundle to trust; empty: the system's CAs. */
      caFile: Type.String({ default: '' }),
      /** Client certificate and key (PEM) for brokers that authenticate by certificate. */
      certFile: Type.String({ default: '' }),
      keyFile: Type.String({ default: '' }),
    },
    { default: {} },
  ),
  kafkaSasl: Type.Object(
    {
      mechanism: Type.Union(
        [Type.Literal('none'), Type.Literal('scram-sha-512'), Type.Literal('scram-sha-256'), Type.Literal('plain')],
        { default: 'none' },
      ),
      username: Type.String({ default: '' }),
      /** File holding the password (a mounted secret); never the password itself. */
      passwordFile: Type.String({ default: '' }),
    },
    { default: {} },
  ),
  schemaRegistryUrl: Type.String({ minLength: 1, default: 'http://127.0.0.1:8081/apis/ccompat/v7' }),
  metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
  metricsHost: Type.String({ default: '0.0.0.0' }),
  logLevel: Type.Union([Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')], {
    default: 'info',
  }),
  /**
   * Partitions of the topics this service creates, over DEFAULT_PARTITIONS of @li/bus (3 for
   * events, matched, hi2, hi3, reports; 1 for state, DLQ and audit): `<stream>=<n>`,
   * `<tenant>/<stream>=<n>`, `*=<n>`. Every service of a deployment needs the same list: the
   * first to start creates the topic.
   */
  topicPartitions: Type.Array(Type.String({ pattern: PARTITIONS_ENTRY }), {
    default: [],
    description: 'entries <stream>=<n>, <tenant>/<stream>=<n> or *=<n>',
  }),
  /** Replicas per partition of the topics it creates; -1: the broker's default.replication.factor. */
  topicReplicationFactor: Type.Integer({ minimum: -1, default: -1, description: '-1 (broker default) or at least 1' }),
  /** min.insync.replicas of the topics it creates; 0: the broker's default. */
  topicMinInsyncReplicas: Type.Integer({ minimum: 0, default: 0 }),
  /** Stable per instance (the pod name in Kubernetes): part of transactional ids. */
  instanceId: Type.String({ minLength: 1, default: 'local' }),
});

export interface ServiceContext<C> {
  config: Readonly<C>;
  log: Logger;
  bus: Bus;
  metrics: Registry;
  /** Adds a readiness check: the service is ready only when all pass. */
  readiness(name: string, check: Check): void;
  liveness(name: string, check: Check): void;
}

export interface RunningService {
  stop(): Promise<void>;
  /** Ports the service bound (port 0 in config means any free port): for tests and logs. */
  ports?: Record<string, number>;
}

export interface ServiceDefinition<S extends Type.TObject> {
  name: string;
  config: S;
  start(ctx: ServiceContext<Type.Static<S>>): Promise<RunningService>;
}

/** The bus's TLS and SASL settings from the common keys; a half-configured SASL is a config error. */
function kafkaSecurityOf(c: Type.Static<typeof CommonConfig>): KafkaSecurity {
  const { kafkaTls: tls, kafkaSasl: sasl } = c;
  const security: KafkaSecurity = {};
  if (tls.enabled) {
    security.tls = {
      ...(tls.caFile ? { caFile: tls.caFile } : {}),
      ...(tls.certFile ? { certFile: tls.certFile } : {}),
      ...(tls.keyFile ? { keyFile: tls.keyFile } : {}),
    };
  }
  if (sasl.mechanism !== 'none') {
    const problems = [];
    if (!sasl.username)
      problems.push({
        key: 'kafkaSasl.username',
        env: 'LI_KAFKA_SASL__USERNAME',
        expected: 'a username when a SASL mechanism is set',
      });
    if (!sasl.passwordFile)
      problems.push({
        key: 'kafkaSasl.passwordFile',
        env: 'LI_KAFKA_SASL__PASSWORD_FILE',
        expected: 'a password file when a SASL mechanism is set',
      });
    if (problems.length > 0) throw new ConfigError(problems);
    security.sasl = { mechanism: sasl.mechanism, username: sasl.username, passwordFile: sasl.passwordFile };
  }
  return security;
}

/** The topic layout from the common keys; a setting the bus refuses is a config error. */
function topicLayoutOf(c: Type.Static<typeof CommonConfig>): TopicLayout {
  try {
    return topicLayout({
      partitions: c.topicPartitions,
      replicationFactor: c.topicReplicationFactor,
      minInsyncReplicas: c.topicMinInsyncReplicas,
    });
  } catch (err) {
    if (!isBusError(err)) throw err;
    const key = /^partitions/.test(err.message)
      ? 'topicPartitions'
      : /^replication/.test(err.message)
        ? 'topicReplicationFactor'
        : 'topicMinInsyncReplicas';
    const env = {
      topicPartitions: 'LI_TOPIC_PARTITIONS',
      topicReplicationFactor: 'LI_TOPIC_REPLICATION_FACTOR',
      topicMinInsyncReplicas: 'LI_TOPIC_MIN_INSYNC_REPLICAS',
    }[key];
    throw new ConfigError([{ key, env, expected: err.message }]);
  }
}

/** true when every consumer of the bus is live (or ready), else which are not and why. */
export function consumersFailing(bus: Pick<Bus, 'consumers'>, aspect: 'live' | 'ready'): true | string {
  const failing = bus
    .consumers()
    .map((c) => ({ name: c.name, h: c.health() }))
    .filter(({ h }) => !h[aspect]);
  return failing.length === 0 || failing.map(({ name, h }) => `${name}: ${h.reason ?? 'failing'}`).join('; ');
}

/** Starts a service with the given environment; returns a handle that stops it. */
export async function startService<S extends Type.TObject>(
  def: ServiceDefinition<S>,
  env: Record<string, string | undefined>,
): Promise<{ stop(): Promise<void>; metricsPort: number; ports: Record<string, number>; log: Logger }> {
  const config = loadConfig(def.config, { env });
  const c = config as unknown as Type.Static<typeof CommonConfig>;
  const log = createLogger({ service: def.name, level: c.logLevel });
  const bus = await createBus(
    {
      brokers: [...c.kafkaBrokers],
      registryUrl: c.schemaRegistryUrl,
      clientId: `${def.name}-${c.instanceId}`,
      security: kafkaSecurityOf(c),
      topics: topicLayoutOf(c),
    },
    log,
  );
  const metrics = createRegistry(def.name);
  const readiness: Record<string, Check> = {};
  const liveness: Record<string, Check> = {};
  // The probes answer from the start: while the service starts (e.g. waits for the schema
  // registry), /healthz passes and /readyz fails, saying what it waits for, instead of a process
  // that answers nothing or exits.
  readiness.startup = () => {
    const consumers = consumersFailing(bus, 'ready');
    return `starting: ${bus.waitingFor() ?? (consumers === true ? 'connecting and reading state' : consumers)}`;
  };
  const probes = await startProbeServer({
    registry: metrics,
    port: c.metricsPort,
    host: c.metricsHost,
    readiness,
    liveness,
  });
  let service: RunningService;
  try {
    service = await def.start({
      config,
      log,
      bus,
      metrics,
      readiness: (name, check) => {
        readiness[name] = check;
      },
      liveness: (name, check) => {
        liveness[name] = check;
      },
    });
  } catch (err) {
    await probes.close();
    await bus.close().catch(() => {});
    throw err;
  }
  delete readiness.startup;
  // Every processor and tail the service made on its bus: dead fails /healthz (the orchestrator
  // restarts the process), not consuming fails /readyz; the answer names each and why.
  liveness.consumers ??= () => consumersFailing(bus, 'live');
  readiness.consumers ??= () => consumersFailing(bus, 'ready');
  log.info({ port: probes.port }, 'started');
  return {
    metricsPort: probes.port,
    ports: { ...service.ports, metrics: probes.port },
    log,
    async stop() {
      await service.stop();
      await bus.close();
      await probes.close();
      log.info({}, 'stopped');
    },
  };
}

/** For main.ts: start, stop on SIGTERM/SIGINT, and exit non-zero with a clear message on bad config. */
export async function runService<S extends Type.TObject>(def: ServiceDefinition<S>): Promise<void> {
  let running: Awaited<ReturnType<typeof startService>>;
  try {
    running = await startService(def, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${def.name}: ${err.message}`);
      process.exit(2);
    }
    console.error(`${def.name}: could not start: ${(err as Error).name}: ${(err as Error).message}`);
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.log.info({ reason: signal }, 'stopping');
    const timer = setTimeout(() => {
      running.log.error({ reason: signal }, 'did not stop within 30 s; exiting');
      process.exit(1);
    }, 30_000);
    timer.unref();
    await running.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Crash-only on a bug: state is in Kafka, so a restart resumes from committed offsets.
  process.on('unhandledRejection', (err) => {
    running.log.fatal({ err }, 'unhandled rejection; exiting so the orchestrator restarts a clean process');
    process.exit(1);
  });
}
