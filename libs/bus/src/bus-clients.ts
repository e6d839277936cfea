// The bus's readers for a service that holds a Bus: the service never reaches for the Kafka client
// (bus.kafka) itself, so the client stays replaceable behind libs/bus.
import type { Bus } from './bus.ts';
import { createProcessor, type Processor, type ProcessorOptions } from './processor.ts';
import { type ReadRecord, type ReadTopicOptions, readTopic } from './read-topic.ts';
import { type Tail, type TailOptions, tailTopics } from './tail-topic.ts';

export const busProcessor = <T>(bus: Pick<Bus, 'kafka'>, o: Omit<ProcessorOptions<T>, 'kafka'>): Processor =>
  createProcessor({ ...o, kafka: bus.kafka });

export const busTail = (bus: Pick<Bus, 'kafka'>, o: Omit<TailOptions, 'kafka'>): Promise<Tail> =>
  tailTopics({ ...o, kafka: bus.kafka });

export const busRead = (bus: Pick<Bus, 'kafka'>, topic: string, o?: ReadTopicOptions): Promise<ReadRecord[]> =>
  readTopic(bus.kafka, topic, o);
