// Report sinks: Diameter Rf to a CDS (with local storage as the spool when the CDS fails,
// MCID.md §5) and local ACR file storage (seed 003 §2.3.4).
import { unreachable } from '@li/core';
import type { Logger } from '@li/log';
import { Gauge, type Registry } from 'prom-client';
import { acrLayoutOf, type McidConfig } from '../config.ts';
import type { McidReport } from '../domain/model.ts';
import type { DeliveryResult, ReportSink } from '../domain/ports.ts';
import { AcrFileStore } from './acr-files.ts';
import type { AcrIdentity } from './diameter/acr.ts';
// The ACR bytes as stored in local files: the same message the CDS would get (Hop-by-Hop 0).
import { buildAcrAvps, encodeAcr } from './diameter/acr.ts';
import { RESULT } from './diameter/dictionary.ts';
import { DiameterPeer, type PeerConfig, PeerError } from './diameter/peer.ts';

export class LocalStorageSink implements ReportSink {
  private readonly files: AcrFileStore;
  private readonly identity: AcrIdentity;

  constructor(files: AcrFileStore, identity: AcrIdentity) {
    this.files = files;
    this.identity = identity;
  }

  async deliver(report: McidReport): Promise<DeliveryResult> {
    const r = await this.files.store(encodeAcr(report, this.identity));
    return r.ok ? { ok: true, via: 'LOCAL', detail: r.file } : { ok: false, code: r.code, reason: r.reason };
  }

  /** One write and fsync for the lot (per file touched) instead of one per report. */
  async deliverMany(reports: readonly McidReport[]): Promise<DeliveryResult[]> {
    const rs = await this.files.storeMany(reports.map((r) => encodeAcr(r, this.identity)));
    return rs.map((r) =>
      r.ok ? { ok: true, via: 'LOCAL', detail: r.file } : { ok: false, code: r.code, reason: r.reason },
    );
  }

  close(): Promise<void> {
    return this.files.flush('shutdown');
  }
}

export class CdsSink implements ReportSink {
  private readonly peerConfig: PeerConfig;
  private readonly identity: AcrIdentity;
  private readonly spool: LocalStorageSink | null;
  private readonly log: Logger;
  private peer: DiameterPeer | null = null;
  private opening: Promise<DiameterPeer> | null = null;
  private readonly connectedGauge: Gauge<'peer'> | null;
  private readonly rttGauge: Gauge<'peer'> | null;

  constructor(
    peerConfig: PeerConfig,
    identity: AcrIdentity,
    opts: { spool?: LocalStorageSink; log: Logger; registry?: Registry },
  ) {
    this.peerConfig = peerConfig;
    this.identity = identity;
    this.spool = opts.spool ?? null;
    this.log = opts.log;
    const r = opts.registry;
    this.connectedGauge = r
      ? ((r.getSingleMetric('mcid_cds_connected') as Gauge<'peer'>) ??
        new Gauge({
          name: 'mcid_cds_connected',
          help: '1 while the Rf peer is open',
          labelNames: ['peer'],
          registers: [r],
        }))
      : null;
    this.rttGauge = r
      ? ((r.getSingleMetric('mcid_cds_watchdog_rtt_seconds') as Gauge<'peer'>) ??
        new Gauge({
          name: 'mcid_cds_watchdog_rtt_seconds',
          help: 'Last DWR/DWA round trip to the Rf peer',
          labelNames: ['peer'],
          registers: [r],
        }))
      : null;
  }

  private get peerLabel(): string {
    return `${this.peerConfig.host}:${this.peerConfig.port}`;
  }

  private async connected(): Promise<DiameterPeer> {
    if (this.peer?.state === 'open') return this.peer;
    if (!this.opening) {
      const p = new DiameterPeer(this.peerConfig);
      p.onProblem = (code, reason) => this.log.warn({ code, reason }, 'unreadable Diameter message from the CDS');
      this.opening = p
        .open()
        .then(() => {
          this.peer = p;
          this.connectedGauge?.set({ peer: this.peerLabel }, 1);
          p.onClose = () => this.connectedGauge?.set({ peer: this.peerLabel }, 0);
          p.onWatchdog = (ms) => this.rttGauge?.set({ peer: this.peerLabel }, ms / 1000);
          return p;
        })
        .finally(() => {
          this.opening = null;
        });
    }
    return this.opening;
  }

  async deliver(report: McidReport): Promise<DeliveryResult> {
    let failure: DeliveryResult;
    try {
      const peer = await this.connected();
      const aca = await peer.account(buildAcrAvps(report, this.identity));
      if (aca.resultCode === RESULT.SUCCESS) return { ok: true, via: 'CDS', detail: peer.remoteHost };
      failure = { ok: false, code: 'MCD_ERR_DIAMETER_RESULT', reason: `Result-Code ${aca.resultCode}` };
    } catch (e) {
      failure =
        e instanceof PeerError
          ? { ok: false, code: e.code, reason: e.message }
          : { ok: false, code: 'MCD_ERR_DIAMETER_CLOSED', reason: 'unexpected failure' };
    }
    this.log.warn({ code: failure.ok ? '' : failure.code }, 'CDS delivery failed');
    if (!this.spool) return failure;
    // Never lose a registration: keep it in local ACR storage when the CDS does not take it.
    return this.spool.deliver(report);
  }

  async close(): Promise<void> {
    await this.peer?.close().catch(() => undefined);
    await this.spool?.close();
  }
}

/** The sink seed 003 §3.2 selects (mtasComDetailsReportingType), built from the service config. */
export function sinkFromConfig(c: McidConfig, deps: { registry: Registry; log: Logger }): ReportSink {
  const identity: AcrIdentity = {
    originHost: c.diameter.originHost,
    originRealm: c.diameter.originRealm,
    destinationRealm: c.diameter.destinationRealm,
    ...(c.diameter.destinationHost ? { destinationHost: c.diameter.destinationHost } : {}),
    serviceContextId: c.diameter.serviceContextId,
    privateVendorId: c.diameter.privateVendorId,
  };
  const ls = c.localStorage;
  const layout = acrLayoutOf(c);
  const local = () =>
    new LocalStorageSink(
      new AcrFileStore(
        {
          directory: layout.directory,
          fileSystem: layout.fileSystem,
          fileMode: layout.fileMode,
          dirMode: layout.dirMode,
          ...(layout.owner ? { owner: layout.owner } : {}),
          nodeId: ls.nodeId,
          maxTimeMs: ls.maxTimeSeconds * 1000,
          maxRecords: ls.maxRecords,
          maxBytes: ls.maxFileBytes,
          fullDiskPercent: ls.fullDiskPercent,
          notFullDiskPercent: ls.notFullDiskPercent,
        },
        { registry: deps.registry },
      ),
      identity,
    );
  switch (c.reportingType) {
    case 'LOCAL':
      return local();
    case 'CDS':
      return cdsSink(c, identity, deps, c.spoolToLocal ? local() : undefined);
    default:
      return unreachable(c.reportingType, 'reporting type');
  }
}

function cdsSink(
  c: McidConfig,
  identity: AcrIdentity,
  deps: { registry: Registry; log: Logger },
  spool: LocalStorageSink | undefined,
): CdsSink {
  const peer: PeerConfig = {
    host: c.diameter.host,
    port: c.diameter.port,
    originHost: c.diameter.originHost,
    originRealm: c.diameter.originRealm,
    hostIp: c.diameter.hostIp,
    productName: 'li-mcid-store',
    vendorId: c.diameter.privateVendorId ?? 0,
    privateVendorId: c.diameter.privateVendorId,
    watchdogMs: c.diameter.watchdogSeconds * 1000,
    answerTimeoutMs: c.diameter.answerTimeoutMs,
    connectTimeoutMs: c.diameter.answerTimeoutMs,
    maxMessageBytes: c.diameter.maxMessageBytes,
  };
  return new CdsSink(peer, identity, {
    log: deps.log,
    registry: deps.registry,
    ...(spool ? { spool } : {}),
  });
}
