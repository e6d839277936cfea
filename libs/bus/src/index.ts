// the types of busConsumer, so its users need not import kafkajs

// Topic names and li.* headers without Kafka (@li/records), for the services' adapters that import the bus.
export type {
  EtsiHeaders,
  HeaderFormat,
  HeaderResult,
  IriType,
  LemfStream,
  ParsedTopic,
  RawHeaders,
  RecordKind,
  ReportHeaders,
  Stream,
  SystemTopic,
} from '@li/records';
export {
  HEADERS,
  IRI_TYPES,
  LEMF_STREAMS,
  parseLemfTopic,
  parseTopic,
  RECORD_FORMATS,
  RECORD_KINDS,
  readEtsiHeaders,
  readEventId,
  readReportHeaders,
  STREAMS,
  SYSTEM_TOPICS,
  writeEtsiHeaders,
  writeEventIdHeader,
  writeReportHeaders,
} from '@li/records';
export type { Consumer as BusConsumer, ConsumerConfig as BusConsumerConfig } from 'kafkajs';
export type { AclOperation, AclPattern, AclResource, Grant, ServiceName } from './access.ts';
export {
  ACCESS,
  deploymentGrants,
  EPHEMERAL_GROUP_PREFIXES,
  grantMentionsTenant,
  operatorGrants,
  SERVICES,
} from './access.ts';
export type { Bus, BusConfig, OutputRecord } from './bus.ts';
export { createBus, EXACTLY_ONCE_PRODUCER } from './bus.ts';
// cc-delivery's per-LEMF topics and the consumer that commits only confirmed records
export { busConsumer, busProcessor, busRead, busTail } from './bus-clients.ts';
export type { ChangelogChange, ChangelogCodec } from './changelog.ts';
export { Changelog, ChangelogStore, jsonChangelog } from './changelog.ts';
export type { BusClient } from './client.ts';
export type { Codec, CodecOptions } from './codec.ts';
export type {
  ConfirmedBatch,
  ConfirmedConsumer,
  ConfirmedConsumerOptions,
  ConfirmedMessage,
} from './confirmed-consumer.ts';
export { createConfirmedConsumer } from './confirmed-consumer.ts';
export type { ConsumerHealth, HealthSource } from './consumer-health.ts';
export { registerConsumer } from './consumer-health.ts';
export type { BusErrorCode } from './errors.ts';
export { acknowledgedBefore, BUS_ERROR_CODES, BusError, BusSendError, isBusError } from './errors.ts';
export { aclEntries, applyGrants, principalOf, revokePrincipal, revokeTenant } from './kafka-access.ts';
export { partitionOfKey } from './kafkajs-producer-batching.ts';
export type { Leadership, LeadershipOptions } from './leadership.ts';
export { electLeader } from './leadership.ts';
export { lemfTopicName, lemfTopicPrefix, validateLemfId } from './lemf-topics.ts';
export type { BatchContext, InputRecord, Processor, ProcessorOptions, ProcessResult, Rejection } from './processor.ts';
export { createProcessor, dlqCounter, dlqRecord } from './processor.ts';
export type { ReadRecord, ReadTopicOptions } from './read-topic.ts';
export { readTopic } from './read-topic.ts';
export type { RestartPolicy } from './restart-policy.ts';
export type { KafkaSecurity, SaslMechanism } from './security.ts';
export { kafkaSecurityOptions, SASL_MECHANISMS } from './security.ts';
export type { Tail, TailOptions, TailRecord } from './tail-topic.ts';
export { tailTopics } from './tail-topic.ts';
export type { TopicLayout, TopicLayoutSettings } from './topic-layout.ts';
export { DEFAULT_PARTITIONS, PARTITIONS_ENTRY, topicLayout } from './topic-layout.ts';
export { deploymentGroupId, tenantOfTopic, topicConfig, topicName, validateTenant } from './topics.ts';
export type { TransactionalProducer } from './transactional.ts';
export { isFencedError, transactionalProducer } from './transactional.ts';
