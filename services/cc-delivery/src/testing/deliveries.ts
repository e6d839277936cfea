// The delivery core with real transports and no Kafka, for tests here and in the root test/ package.
import { systemClock } from '@li/core';
import type { Logger } from '@li/log';
import { recordingLogger } from '@li/log/testing';
import { Registry } from 'prom-client';
import { createLemfDeliveries, type TunnelControl } from '../adapters/lemf-deliveries.ts';
import type { TransportDeps } from '../adapters/transport-factory.ts';
import type { DeliveryRecord, Stream } from '../domain/types.ts';
import type { DeliveryError } from '../errors.ts';

export async function waitFor<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let offset = 0;
export function record(
  lemfId: string,
  liid: string,
  seq: number,
  stream: Stream,
  bytes: Buffer,
  cin = 7,
): DeliveryRecord {
  return {
    lemfId,
    liid,
    cin,
    seq,
    stream,
    bytes,
    source: { topic: `li.acme.${stream.toLowerCase()}`, partition: 0, offset: offset++ },
  };
}

export { recordingLogger } from '@li/log/testing';

/** createLemfDeliveries with real adapters, collecting commits and dead letters. */
export function testDeliveries(
  deps: Partial<TransportDeps> & { tunnels?: TunnelControl } = {},
  maxBatchRecords = 128,
  log: Logger = recordingLogger().log,
) {
  const registry = new Registry();
  const commits: { lemf: string; offset: number; topic: string }[] = [];
  const dead: { record: DeliveryRecord; error: DeliveryError }[] = [];
  const deliveries = createLemfDeliveries({
    maxBatchRecords,
    log,
    clock: systemClock,
    secrets: () => null,
    codec: null,
    backoff: { baseMs: 50, maxMs: 500, jitter: 0.5 },
    connectTimeoutMs: 2000,
    registry,
    commit: (lemf, points) => {
      for (const p of points) commits.push({ lemf, offset: p.offset, topic: p.topic });
    },
    deadLetter: (r, error) => dead.push({ record: r, error }),
    ...deps,
  });
  return { deliveries, registry, commits, dead };
}
