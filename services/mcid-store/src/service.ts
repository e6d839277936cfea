// The mcid-store service on Kafka: restores its state from the compacted topics, handles the
// SIP events of li.<t>.events (at least once; the engine is idempotent for a replayed event),
// runs the timer that expires registrations and retries undelivered reports, and serves the
// REST API for subscriber data and the administrative states.

import { readFileSync } from 'node:fs';
import { loadTokenFile } from '@li/auth';
import { SYSTEM_TOPICS } from '@li/bus';
import { systemClock } from '@li/core';
import type { Logger } from '@li/log';
import type { ServiceDefinition } from '@li/runtime';
import type { Registry } from 'prom-client';
import { AcrPusher, FtpRemote, parseHostKeyFingerprint, SftpRemote } from './adapters/acr-retrieval.ts';
import { startEventsConsumer } from './adapters/events-consumer.ts';
import { buildApp } from './adapters/http.ts';
import { KafkaStateStore } from './adapters/kafka-state.ts';
import { mcidObserver } from './adapters/metrics.ts';
import { sinkFromConfig } from './adapters/reporters.ts';
import { acrLayoutOf, Config, domainConfigOf, type McidConfig, mcidConfigOf } from './config.ts';
import { McidService } from './domain/mcid-service.ts';

export const mcidStoreService: ServiceDefinition<typeof Config> = {
  name: 'mcid-store',
  config: Config,
  async start({ config, log, bus, metrics, readiness }) {
    const c = mcidConfigOf(config);
    const authenticator = loadTokenFile(config.tokensFile);
    await bus.ensureSystemTopics([SYSTEM_TOPICS.mcid]);
    for (const t of config.tenants) await bus.ensureTopics(t, ['events', 'mcid', 'dlq']);
    const store = new KafkaStateStore(bus, config.tenants);
    const restored = await store.restore();
    log.info({ records: restored }, 'MCID state restored');

    const sink = sinkFromConfig(c, { registry: metrics, log });
    const service = new McidService({
      store,
      sink,
      clock: systemClock,
      observer: mcidObserver(metrics, log),
      domain: domainConfigOf(c),
    });
    const app = buildApp({ store, clock: systemClock, authenticator, tenants: config.tenants, log });
    await app.listen({ host: c.http.host, port: c.http.port });

    const consumer = await startEventsConsumer({
      bus,
      tenants: config.tenants,
      log,
      metrics,
      handle: (events) => service.handleBatch(events),
    });
    const pusher = acrPusherOf(c, metrics, log);
    pusher?.start();
    // One timer run at a time: a slow one (a disk that was full, a CDS timing out) is not overlapped.
    let ticking = false;
    const timer = setInterval(() => {
      if (ticking) return;
      ticking = true;
      service
        .tick()
        .catch((err: unknown) => log.error({ err }, 'MCID timer failed'))
        .finally(() => {
          ticking = false;
        });
    }, config.tickSeconds * 1000);
    readiness('state', () => true);
    return {
      ports: { http: (app.server.address() as { port: number }).port },
      async stop() {
        clearInterval(timer);
        await consumer.stop();
        await app.close();
        await sink.close();
        await pusher?.stop();
      },
    };
  },
};

/** Seed 003 §3.6: the push of closed ACR files, when configured. */
function acrPusherOf(c: McidConfig, registry: Registry, log: Logger): AcrPusher | null {
  const r = c.retrieval;
  if (r.mode !== 'PUSH') return null;
  const login = {
    host: r.host,
    port: r.port ?? (r.protocol === 'SFTP' ? 22 : 21),
    username: r.username,
    ...(r.password !== undefined ? { password: r.password } : {}),
    ...(r.privateKeyFile ? { privateKey: readFileSync(r.privateKeyFile) } : {}),
    ...(r.hostKeySha256 ? { hostKeySha256: parseHostKeyFingerprint(r.hostKeySha256) ?? Buffer.alloc(0) } : {}),
    timeoutMs: r.timeoutMs,
  };
  const layout = acrLayoutOf(c);
  return new AcrPusher(
    {
      localDirectory: layout.directory,
      plName: layout.plName,
      fileSystem: layout.fileSystem,
      remoteDirectory: r.directory,
      scanMs: r.scanSeconds * 1000,
      retryMs: r.retrySeconds * 1000,
    },
    r.protocol === 'SFTP' ? new SftpRemote(login) : new FtpRemote(login),
    { registry, log },
  );
}
