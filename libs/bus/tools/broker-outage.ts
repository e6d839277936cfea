// Manual check on a PRIVATE broker (never the shared one): a processor survives a broker that
// is SIGKILLed for ~35 s and started again on the same data. It goes not ready while its
// consumer is down, ready again afterwards, and handles records produced after the restart.
// Run (see deploy/local/infra.sh for the private infra):
//   LI_INFRA_RUN=/tmp/bus2-infra LI_KAFKA_BROKERS=127.0.0.1:29092 \
//   LI_SCHEMA_REGISTRY_URL=http://127.0.0.1:28081/apis/ccompat/v7 node tools/broker-outage.ts
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@li/log';
import { infraRunDir, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { Registry } from 'prom-client';
import { createBus, createProcessor, readTopic, tailTopics, topicName } from '../src/index.ts';

const run = infraRunDir();
if (!process.env.LI_INFRA_RUN || run.endsWith('/.run/infra') || !process.env.LI_KAFKA_BROKERS) {
  console.error('refusing: set LI_INFRA_RUN and LI_KAFKA_BROKERS to a private infra, not the shared one');
  process.exit(2);
}
const outageMs = Number(process.env.OUTAGE_MS ?? 35_000);
const log = createLogger({ service: 'outage', level: 'warn' });
const bus = await createBus({ ...testInfra(), clientId: 'outage-check' }, log);
const tenant = uniqueTenant('outage');
await bus.ensureTopics(tenant, ['events', 'hi2', 'dlq']);
const input = topicName(tenant, 'events');
const output = topicName(tenant, 'hi2');
const metrics = new Registry();
const processor = createProcessor<Buffer | null>({
  kafka: bus.kafka,
  log,
  groupId: `li.outage.${tenant}`,
  topics: [input],
  transactionalIdPrefix: `li.outage.${tenant}`,
  metrics,
  decode: async (b) => b,
  dlqTopic: () => topicName(tenant, 'dlq'),
  process: async (records) => ({ outputs: records.map((r) => ({ topic: output, key: r.key, value: r.value })) }),
});
const send = (from: number, n: number) =>
  bus.send(
    Array.from({ length: n }, (_, i) => ({ topic: input, key: `k${from + i}`, value: Buffer.from(`v${from + i}`) })),
  );
const outputs = async (n: number) => (await readTopic(bus.kafka, output, { timeoutMs: 30_000 })).length >= n;

await processor.start();
// A tail on the output: kafkajs restarts it by itself; it must follow again after the outage.
const tailed = new Set<string>();
const tail = await tailTopics({
  kafka: bus.kafka,
  log,
  topics: [output],
  onRecord: (r) => void tailed.add(r.key ?? ''),
});
const tailHealth = () =>
  bus
    .consumers()
    .find((c) => c.name === 'tail')!
    .health();
const started = Date.now();
const timeline: string[] = [];
let last = '';
const sample = setInterval(() => {
  const h = processor.health();
  const t = tailHealth();
  const s = `processor live=${h.live} ready=${h.ready}${h.reason ? ` (${h.reason})` : ''} | tail live=${t.live} ready=${t.ready}${t.reason ? ` (${t.reason})` : ''}`;
  // The stall reason counts seconds: a new line only when the reason's words change.
  const key = s.replace(/\d+/g, '#');
  if (key !== last) timeline.push(`+${((Date.now() - started) / 1000).toFixed(1)}s ${s}`);
  last = key;
}, 250);
await send(0, 10);
await waitFor(() => outputs(10), { timeoutMs: 60_000, intervalMs: 500, what: 'outputs before the outage' });

const pid = Number(readFileSync(join(run, 'kafka.pid'), 'utf8'));
const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
const javaPath = realpathSync(`/proc/${pid}/exe`);
process.kill(pid, 'SIGKILL');
timeline.push(`+${((Date.now() - started) / 1000).toFixed(1)}s broker SIGKILLed (pid ${pid})`);
await new Promise((r) => setTimeout(r, outageMs));
const out = openSync(join(run, 'kafka/stdout.log'), 'a');
const broker = spawn(javaPath, argv.slice(1), { detached: true, stdio: ['ignore', out, out] });
broker.unref();
writeFileSync(join(run, 'kafka.pid'), String(broker.pid));
timeline.push(`+${((Date.now() - started) / 1000).toFixed(1)}s broker started again (pid ${broker.pid})`);

await waitFor(() => processor.health().ready, { timeoutMs: 240_000, intervalMs: 500, what: 'ready again' });
await send(10, 10);
await waitFor(() => outputs(20), { timeoutMs: 120_000, intervalMs: 1000, what: 'outputs after the restart' });
await waitFor(() => tailed.size >= 20, { timeoutMs: 120_000, intervalMs: 500, what: 'the tail following again' });
clearInterval(sample);
const restarts = (await metrics.getSingleMetricAsString('li_bus_consumer_restarts_total'))
  .split('\n')
  .filter((l) => !l.startsWith('#'));
console.log(timeline.join('\n'));
console.log('restarts metric:', restarts.join(' ') || '(none)');
const seen = timeline.join('\n');
assert.match(seen, /ready=false/, 'health went not ready during the outage');
assert.deepEqual(processor.health(), { live: true, ready: true });
assert.deepEqual(tailHealth(), { live: true, ready: true });
const final = await readTopic(bus.kafka, output);
assert.deepEqual(new Set(final.map((r) => r.key)).size, 20, 'every record handled once');
assert.equal(final.length, 20);
await processor.stop();
await tail.stop();
await bus.close();
console.log('OK: the processor recovered and handled the records produced after the broker restart');
process.exit(0);
