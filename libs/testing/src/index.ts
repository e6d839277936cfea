// Helpers for tests that talk to the local broker and registry (deploy/local/infra.sh).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '@li/log';

export interface TestInfra {
  brokers: string[];
  registryUrl: string;
}

export function testInfra(): TestInfra {
  return {
    brokers: (process.env.LI_KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
    registryUrl: process.env.LI_SCHEMA_REGISTRY_URL ?? 'http://127.0.0.1:8081/apis/ccompat/v7',
  };
}

/**
 * A service's environment against the local infra: metrics on a free loopback port, errors only
 * in the log (DEBUG_LOG_LEVEL overrides), and `extra` on top.
 */
export function serviceEnv(extra: Record<string, string> = {}): Record<string, string> {
  const infra = testInfra();
  return {
    LI_KAFKA_BROKERS: infra.brokers.join(','),
    LI_SCHEMA_REGISTRY_URL: infra.registryUrl,
    LI_METRICS_PORT: '0',
    LI_METRICS_HOST: '127.0.0.1',
    LI_LOG_LEVEL: process.env.DEBUG_LOG_LEVEL ?? 'error',
    ...extra,
  };
}

/** `p`, or a rejection naming `what` once `ms` have passed: a hang then says where it is. */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh tenant id per test, so tests never see each other's topics. */
export function uniqueTenant(prefix = 't'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A logger that keeps its lines in memory, for asserting on them. */
export function memoryLogger(service = 'test'): { log: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const log = createLogger({ service, level: 'debug', destination });
  return {
    log,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim().length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  { timeoutMs = 15_000, intervalMs = 50, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The pinned Node 24 (the `node` devDependency), for tests that start TypeScript child processes. */
export function pinnedNode(): string {
  const candidate = join(import.meta.dirname, '../../../node_modules/node/bin/node');
  return existsSync(candidate) ? candidate : process.execPath;
}
