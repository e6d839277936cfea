// admf: the REST API and the scheduler over the use cases, the state kept on Kafka (see
// adapters/kafka-store.ts), and the account events followed from li.<t>.events (one consumer per tenant).
import { loadTokenFile, type TokenAuthenticator as SharedAuthenticator, type TokenTable } from '@li/auth';
import { type Clock, systemClock } from '@li/core';
import type { Logger } from '@li/log';
import type { ServiceDefinition } from '@li/runtime';
import type { FastifyInstance } from 'fastify';
import bundledTariffs from '../config/tariffs.json' with { type: 'json' };
import { followAccountEvents } from './adapters/account-events.ts';
import { loadTariffs } from './adapters/config-files.ts';
import { TokenAuthenticator } from './adapters/http/auth.ts';
import { type ConsoleOptions, consoleDir } from './adapters/http/console.ts';
import { createHttpServer } from './adapters/http/server.ts';
import { KafkaPublisher } from './adapters/kafka-store.ts';
import { InMemoryWarrantStore } from './adapters/memory-store.ts';
import { WarrantScheduler } from './adapters/scheduler.ts';
import { SwitchingStore, WriterRole } from './adapters/writer-role.ts';
import { Config, tenantFilter, tlsOf } from './config.ts';
import { parseTariffs, type TariffTable } from './domain/billing.ts';
import type { WarrantStore } from './domain/model.ts';
import { UseCases } from './domain/use-cases.ts';

interface AdmfDeps {
  store: WarrantStore;
  clock: Clock;
  /** The token table; or `authenticator`, one already loaded from the token file. */
  tokens?: TokenTable;
  authenticator?: SharedAuthenticator;
  log: Logger;
  /** Serve HTTPS with this key and certificate chain (PEM); plain HTTP without. */
  tls?: { key: Buffer; cert: Buffer };
  /** Defaults to config/tariffs.json as shipped. */
  tariffs?: TariffTable;
  /** Start the scheduler (default true); tests drive useCases.runScheduled() themselves. */
  schedule?: boolean;
  /** Entry names of cc-delivery's PIPE allow-list (config pipeCommands); default none. */
  pipeCommands?: readonly string[];
  /** The web console's build and the delivery metrics its LEMF status reads; default none. */
  console?: ConsoleOptions;
  /** Why writes are refused now (a standby instance), or undefined: they are taken. */
  refuseWrites?: () => string | undefined;
  /** The tenants this deployment may create (config servedTenants); default every one. */
  servesTenant?: (tenant: string) => boolean;
}

export interface Admf {
  http: FastifyInstance;
  useCases: UseCases;
  scheduler: WarrantScheduler;
  close(): Promise<void>;
}

/** The use cases with the REST API and the scheduler around them, over the store it is given. */
export async function buildAdmf(deps: AdmfDeps): Promise<Admf> {
  let authenticator: TokenAuthenticator;
  if (deps.authenticator) {
    authenticator = TokenAuthenticator.fromShared(deps.authenticator);
  } else {
    const auth = TokenAuthenticator.fromTable(deps.tokens ?? {});
    if (!auth.ok) throw new Error(`admf token table: ${auth.error.message}`);
    authenticator = auth.value;
  }
  let tariffs = deps.tariffs;
  if (!tariffs) {
    const t = parseTariffs(bundledTariffs);
    if (!t.ok) throw new Error(`admf bundled tariffs: ${t.error.message}`);
    tariffs = t.value;
  }
  const { log, clock } = deps;
  const useCases = new UseCases({
    store: deps.store,
    clock,
    tariffs,
    lemfPolicy: { pipeCommands: deps.pipeCommands ?? [] },
    ...(deps.servesTenant ? { servesTenant: deps.servesTenant } : {}),
    onCommitFailed: (tenant, err) => log.error({ tenant, err }, 'commit failed'),
  });
  const scheduler = new WarrantScheduler(useCases, clock, log);
  useCases.onWarrantsChanged = () => scheduler.kick();
  const http = await createHttpServer({
    useCases,
    authenticator,
    clock,
    log,
    tls: deps.tls,
    console: deps.console,
    ...(deps.refuseWrites ? { refuseWrites: deps.refuseWrites } : {}),
  });
  if (deps.schedule !== false) scheduler.start();
  return {
    http,
    useCases,
    scheduler,
    async close() {
      scheduler.stop();
      await http.close();
    },
  };
}

export const admfService: ServiceDefinition<typeof Config> = {
  name: 'admf',
  config: Config,
  async start({ config, log, bus, metrics, readiness }) {
    const authenticator = loadTokenFile(config.tokensFile);
    const tls = tlsOf(config.http);
    const servesTenant = tenantFilter(config.servedTenants);
    const tariffs = config.tariffsFile ? await loadTariffs(config.tariffsFile) : undefined;
    if (tariffs && !tariffs.ok) throw new Error(`tariffs file: ${tariffs.error.message}`);

    await bus.ensureSystemTopics();
    const publisher = new KafkaPublisher(bus);
    // Reads go to the role's store: the writer's, or the topics followed while standing by.
    const store = new SwitchingStore(new InMemoryWarrantStore());
    const admf = await buildAdmf({
      store,
      clock: systemClock,
      authenticator,
      log,
      pipeCommands: config.pipeCommands,
      console: { dir: consoleDir(config.console.dir, log), deliveryMetricsUrls: config.console.deliveryMetricsUrls },
      schedule: false,
      refuseWrites: () => role.refusal(),
      servesTenant,
      ...(tls ? { tls } : {}),
      ...(tariffs?.ok ? { tariffs: tariffs.value } : {}),
    });
    // One instance of the deployment writes; the names hold an underscore, which no tenant id
    // (and so no `<eventsGroupId>.<tenant>` group) can.
    const role = new WriterRole({
      bus,
      log,
      publisher,
      store,
      writerId: `${config.eventsGroupId}._writer`,
      electionGroup: `${config.eventsGroupId}._writer`,
      sessionTimeoutMs: config.writerSessionTimeoutMs,
      servesTenant,
      // Only the writer runs the scheduler and follows account events (each tenant's own
      // consumer, those loaded now and each one created from now on; only the served ones).
      startWriting: (tenants) => {
        const accountEvents = followAccountEvents({
          bus,
          metrics,
          log,
          eventsGroupId: config.eventsGroupId,
          transactionalIdPrefix: `${config.eventsGroupId}._accounts`,
          useCases: admf.useCases,
        });
        admf.useCases.onTenantCreated = (tenant) => accountEvents.follow(tenant);
        for (const t of tenants) accountEvents.follow(t.id);
        admf.scheduler.start();
        return async () => {
          admf.scheduler.stop();
          admf.useCases.onTenantCreated = () => {};
          await accountEvents.stop();
        };
      },
    });
    try {
      await role.start();
      await admf.http.listen({ host: config.http.host, port: config.http.port });
    } catch (err) {
      await role.stop();
      await admf.close();
      throw err;
    }
    // A standby is not ready: the load balancer sends requests to the writer.
    readiness('writer', () => role.refusal() ?? true);
    readiness('http', () => admf.http.server.listening || 'not listening');
    return {
      ports: { http: (admf.http.server.address() as { port: number }).port },
      async stop() {
        await role.stop();
        await admf.close();
      },
    };
  },
};
