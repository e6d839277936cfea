// The bus's readers for a service that holds a Bus: the service never reaches for the Kafka client
// (bus.kafka) itself, so the client stays replaceable behind libs/bus.
import type { Consumer, ConsumerConfig } from 'kafkajs';
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

/**
 * A plain group consumer on the bus's client, for a service whose loop fits none of the above
 * (its own commit policy, e.g. autoCommit after the handler settles); the service still never
 * imports kafkajs nor touches bus.kafka.
 */
export const busConsumer = (bus: Pick<Bus, 'kafka'>, config: ConsumerConfig): Consumer => bus.kafka.consumer(config);
