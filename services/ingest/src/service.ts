// The ingest service: every adapter that is configured publishes NormalizedEvents to
// li.<t>.events through one batching publisher; what cannot be decoded goes to li.<t>.dlq.
// One ingest deployment serves one tenant: each virtual provider's mirror, capture interface
// or mail server points at its own ingest.
import { readFileSync } from 'node:fs';
import { loadTokenFile } from '@li/auth';
import { topicName } from '@li/bus';
import { systemClock } from '@li/core';
import type { ServiceDefinition } from '@li/runtime';
import type { NormalizedEvent } from '@li/schemas';
import { EventPublisher } from './adapters/event-publisher.ts';
import { buildMailEventsApp } from './adapters/mail-events-http.ts';
import { type MediaTaps, startMediaTaps } from './adapters/media-taps.ts';
import { createIngestMetrics } from './adapters/metrics.ts';
import { replayPcapFile } from './adapters/pcap-file.ts';
import { startSipListener } from './adapters/sip-listener.ts';
import { DiskSpool } from './adapters/spool.ts';
import { startTcpdump } from './adapters/tcpdump.ts';
import { createX2X3Receiver } from './adapters/x2x3-receiver.ts';
import { Config, checkConfig, spoolDirectory, spoolFsyncOf } from './config.ts';
import { createCapture } from './domain/capture/capture.ts';
import { mailDecoderFactories } from './domain/mail/factories.ts';
import { msnpDecoderFactory } from './domain/msnp/msnp.ts';
import { sipDatagramHandler, sipStreamFactory } from './domain/sip/decoder.ts';
import { pduToEvent, taskTable } from './domain/x2x3/event.ts';

// How often tcpdump is asked how many packets the kernel dropped (li_ingest_dropped_total).
const KERNEL_DROPS_EVERY_MS = 10_000;

export const ingestService: ServiceDefinition<typeof Config> = {
  name: 'ingest',
  config: Config,
  async start({ config, log, bus, metrics, readiness, liveness }) {
    checkConfig(config);
    const tenant = config.tenant;
    await bus.ensureTopics(tenant, ['events', 'dlq']);
    const eventsTopic = topicName(tenant, 'events');
    const m = createIngestMetrics(metrics);
    const spool = config.spool.enabled
      ? new DiskSpool({
          directory: spoolDirectory(config),
          maxBytes: config.spool.maxBytes,
          fsync: spoolFsyncOf(config),
          onIoError: (reason) => {
            m.problems.inc({ tenant, source: 'spool', code: 'ING_ERR_SPOOL_IO' });
            log.error({ code: 'ING_ERR_SPOOL_IO', reason }, 'spool write or sync failed');
          },
          onCorrupt: (reason) => {
            m.problems.inc({ tenant, source: 'spool', code: 'ING_ERR_SPOOL_CORRUPT' });
            log.error({ code: 'ING_ERR_SPOOL_CORRUPT', reason }, 'damaged spool record skipped');
          },
        })
      : undefined;
    if (spool) m.watchSpool(() => spool, tenant);
    const publisher = new EventPublisher({
      bus,
      log,
      tenant,
      eventsTopic,
      dlqTopic: topicName(tenant, 'dlq'),
      codec: await bus.codec<NormalizedEvent>(eventsTopic, 'NormalizedEvent'),
      counters: { events: m.events, problems: m.problems, spoolDropped: m.spoolDropped },
      ...(spool ? { spool, spoolAfterMs: config.spool.afterMs } : {}),
    });
    liveness('publisher', () => publisher.healthy());
    // fsync 'always': senders that get an answer hear back only once their records are kept
    const durable = spool && config.spool.fsync === 'always' ? { durable: () => publisher.durable() } : {};
    const stops: (() => Promise<void>)[] = [];
    const listening: Record<string, number> = {};
    const capturing = !!(config.capture.interface || config.capture.pcapFile);
    let media: MediaTaps | undefined;
    if (config.media.enabled && capturing) {
      media = await startMediaTaps({
        bus,
        log,
        tenant,
        limits: {
          pendingMs: config.media.pendingMs,
          idleMicros: config.media.idleSeconds * 1e6,
          maxPendingBytes: config.media.maxPendingBytes,
        },
      });
      m.watchMedia(() => media!.tracker.stats(), tenant);
      stops.push(() => media!.stop());
    }

    if (config.sip.enabled) {
      const sipSink = publisher.sink('sip');
      const sink = media ? media.watch(sipSink) : sipSink;
      const sip = await startSipListener({
        host: config.sip.host,
        udpPort: config.sip.udpPort,
        tcpPort: config.sip.tcpPort,
        onEvent: sink.event,
        onProblem: sink.problem,
      });
      if (sip.udpPort !== null) listening.sipUdp = sip.udpPort;
      if (sip.tcpPort !== null) listening.sipTcp = sip.tcpPort;
      stops.push(() => sip.close());
    }

    if (capturing) {
      const pcapSink = publisher.sink('pcap');
      const sink = media ? media.watch(pcapSink) : pcapSink;
      const capture = createCapture({
        factories: [
          sipStreamFactory(),
          ...mailDecoderFactories({
            smtp: config.capture.smtpPorts,
            pop3: config.capture.pop3Ports,
            imap: config.capture.imapPorts,
          }),
          msnpDecoderFactory({ ports: config.capture.msnpPorts }),
        ],
        onDatagram: media ? media.datagrams(pcapSink, sipDatagramHandler(sink)) : sipDatagramHandler(sink),
        sink,
        limits: {
          tcp: { maxFlowBytes: config.capture.maxFlowBytes, maxTotalBytes: config.capture.maxTotalBytes },
          defrag: {
            maxDatagrams: config.capture.defragMaxDatagrams,
            maxBytes: config.capture.defragMaxBytes,
            maxFragmentsPerDatagram: config.capture.defragMaxFragments,
          },
        },
      });
      m.watchCapture(capture.stats, tenant);
      if (config.capture.pcapFile) {
        const r = await replayPcapFile(config.capture.pcapFile, capture, {
          speed: config.capture.pcapSpeed,
          onStart: (wallMs) => m.replayStarted(tenant, wallMs),
          ...(media ? { between: () => media!.backpressure() } : {}),
        });
        capture.end();
        log.info({ count: r.packets, code: r.ok ? null : r.error.code }, 'pcap file replayed');
      }
      if (config.capture.interface) {
        const kernelDrops = m.kernelDrops(tenant);
        const live = startTcpdump({
          interface: config.capture.interface,
          bufferKiB: Math.max(1, Math.floor(config.capture.bufferBytes / 1024)),
          ...(config.capture.filter ? { filter: config.capture.filter } : {}),
          onPacket: (p) => capture.packet(p),
          onKernelDrops: (total) => {
            const count = kernelDrops(total);
            if (count > 0) log.warn({ count }, 'the kernel dropped captured packets; raise capture.bufferBytes');
          },
        });
        const quiet = setInterval(() => {
          capture.tick(systemClock.now() * 1000);
          media?.tick();
        }, 1000);
        await live.ready;
        const stats = setInterval(() => live.requestStats(), KERNEL_DROPS_EVERY_MS);
        stops.push(async () => {
          clearInterval(stats);
          clearInterval(quiet);
          live.stop();
          await live.done;
          capture.end();
        });
      }
    }

    if (config.mailEvents.enabled) {
      const sink = publisher.sink('mail-events');
      const refused = m.mailEventsRefused();
      const app = await buildMailEventsApp({
        onEvent: sink.event,
        onProblem: sink.problem,
        onRefused: (code) => refused.inc({ tenant, code }),
        tenant,
        authenticator: loadTokenFile(config.tokensFile),
        bodyLimit: config.mailEvents.bodyLimitBytes,
        maxDepth: config.mailEvents.maxDepth,
        requestTimeoutMs: config.mailEvents.requestTimeoutMs,
        accepting: () => publisher.accepting(),
        ...durable,
      });
      await app.listen({ host: config.mailEvents.host, port: config.mailEvents.port });
      listening.mailEvents = (app.server.address() as { port: number }).port;
      stops.push(() => app.close());
    }

    if (config.x2x3.enabled) {
      const sink = publisher.sink('x2x3');
      const lookup = taskTable(config.x2x3.tasks);
      const receiver = createX2X3Receiver({
        ...(config.x2x3.tlsKeyFile
          ? {
              tls: {
                key: readFileSync(config.x2x3.tlsKeyFile),
                cert: readFileSync(config.x2x3.tlsCertFile),
                allowNoClientCert: config.x2x3.tlsAllowNoClientCert,
                ...(config.x2x3.tlsCaFile ? { ca: readFileSync(config.x2x3.tlsCaFile) } : {}),
              },
            }
          : {}),
        onPdu: (pdu, attrs) => {
          const r = pduToEvent(pdu, attrs, lookup, systemClock.now() * 1000);
          if (r.ok) sink.event(r.event);
          else sink.problem({ code: r.code, reason: r.reason });
        },
        onProblem: (p) => sink.problem({ code: p.code, reason: p.reason }),
        maxConnections: config.x2x3.maxConnections,
        idleTimeoutMs: config.x2x3.idleTimeoutMs,
        maxPduBytes: config.x2x3.maxPduBytes,
        maxUnreadReplyBytes: config.x2x3.maxUnreadReplyBytes,
        onConnectionRefused: () => m.dropped.inc({ tenant, reason: 'x2x3_connection_limit' }),
        accepting: () => publisher.accepting(),
        ...durable,
      });
      listening.x2x3 = await receiver.listen(config.x2x3.port, config.x2x3.host);
      stops.push(() => receiver.close());
    }

    readiness('adapters', () => true);
    log.info({ reason: JSON.stringify(listening) }, 'ingest adapters listening');
    return {
      ports: listening,
      async stop() {
        for (const stop of stops.reverse()) await stop();
        await publisher.close();
      },
    };
  },
};
