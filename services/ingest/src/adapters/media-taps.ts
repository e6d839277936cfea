// Voice content for ingest: the media tracker sees every SIP event (to follow SDP) and every UDP
// datagram of the capture first; it learns which calls are tapped by following li.<t>.taps from
// the beginning (compacted: the taps in force), and publishes the media of those calls only.
import { randomUUID } from 'node:crypto';
import { type Bus, busTail, EXACTLY_ONCE_PRODUCER, topicName } from '@li/bus';
import type { Logger } from '@li/log';
import type { Tap } from '@li/schemas';
import type { Datagram } from '../domain/capture/capture.ts';
import { DEFAULT_MEDIA_LIMITS, type MediaLimits, MediaTracker } from '../domain/media/tracker.ts';
import type { DecodedEvent, DecoderSink } from '../domain/stream.ts';

export interface MediaTaps {
  tracker: MediaTracker;
  /** A sink that shows SIP events to the tracker before passing them on. */
  watch(sink: DecoderSink): DecoderSink;
  /** The capture's datagram handler: media of followed calls here, the rest to `next`. */
  datagrams(sink: DecoderSink, next: (d: Datagram) => void): (d: Datagram) => void;
  /**
   * For a file read faster than real time: resolves once less than half the hold budget is in
   * use, so the read waits for tap decisions instead of dropping held media (exact at any speed).
   */
  backpressure(): Promise<void>;
  /** Advances the tracker's clocks while the capture is quiet. */
  tick(): void;
  stop(): Promise<void>;
}

/** The attribute naming an event's publication number for target-match's watermarks. */
const TAP_SEQ_ATTRIBUTE = 'li.tap-seq';

async function eventPartitions(bus: Bus, topic: string): Promise<number> {
  const admin = await bus.admin();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return Math.max(1, meta.topics[0]?.partitions.length ?? 1);
  } finally {
    await admin.disconnect();
  }
}

export async function startMediaTaps(o: {
  bus: Bus;
  log: Logger;
  tenant: string;
  limits: Partial<MediaLimits>;
}): Promise<MediaTaps> {
  // The partition ingest's producer puts a call's events in, as target-match's watermarks name it.
  const partitions = await eventPartitions(o.bus, topicName(o.tenant, 'events'));
  const partitioner = EXACTLY_ONCE_PRODUCER.createPartitioner();
  const partitionMetadata = [...Array(partitions).keys()].map((partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [],
    isr: [],
  }));
  const partitionOf = (callId: string) =>
    partitions <= 1 ? 0 : partitioner({ topic: 'events', partitionMetadata, message: { key: callId } });
  const tracker = new MediaTracker(o.limits, partitionOf);
  // This instance numbers the SIP events it publishes (attribute TAP_SEQ_ATTRIBUTE, `<instance>/<n>`);
  // target-match answers with watermarks keyed `~watermark/<instance>/<partition>`.
  const instance = randomUUID().slice(0, 8);
  const watermarkPrefix = `~watermark/${instance}/`;
  let seq = 0;
  const topic = topicName(o.tenant, 'taps');
  await o.bus.ensureTopics(o.tenant, ['taps']);
  const codec = await o.bus.codec<Tap>(topic, 'Tap');
  // Held media of a call goes out through the sink of the capture that saw it.
  let publish: (e: DecodedEvent) => void = () => undefined;
  const tail = await busTail(o.bus, {
    log: o.log,
    topics: [topic],
    onRecord: async (r) => {
      if (r.key === null) return;
      const tap = r.value === null ? null : await codec.decode(r.value);
      // target-match's watermark of our events in one partition: no LIID (a tap always has one).
      if (r.key.startsWith(watermarkPrefix) && tap && tap.liids.length === 0) {
        const partition = Number(r.key.slice(watermarkPrefix.length));
        if (Number.isInteger(partition)) tracker.watermark(partition, tap.tappedAtMicros);
        return;
      }
      for (const e of tracker.tap(r.key, tap, Date.now())) publish(e);
    },
  });
  await tail.caughtUp;
  return {
    tracker,
    watch: (sink) => ({
      event: (e) => {
        if (e.protocol === 'SIP' && e.category === 'SIGNALS') {
          const n = ++seq;
          e.attributes[TAP_SEQ_ATTRIBUTE] = `${instance}/${n}`;
          tracker.signal(e, Date.now(), n);
        }
        sink.event(e);
      },
      problem: sink.problem,
    }),
    datagrams(sink, next) {
      publish = sink.event;
      return (d) => {
        const media = tracker.datagram(d, Date.now());
        if (media === null) next(d);
        else for (const e of media) sink.event(e);
      };
    },
    async backpressure() {
      const budget = (o.limits.maxPendingBytes ?? DEFAULT_MEDIA_LIMITS.maxPendingBytes) / 2;
      while (tracker.heldBytes() > budget) {
        await new Promise((r) => setTimeout(r, 20));
        tracker.settle(Date.now());
      }
    },
    tick: () => tracker.tick(Date.now() * 1000, Date.now()),
    stop: () => tail.stop(),
  };
}
