import { memoryLogger } from '@li/testing';
import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaEntryLevel, kafkaLogCreator } from './kafka-log.ts';

describe('kafkajs log levels', () => {
  it('turns a broker answer kafkajs retries into a warning', () => {
    const concurrent =
      'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';
    expect(
      kafkaEntryLevel(logLevel.ERROR, {
        message: 'Response AddPartitionsToTxn(key: 24, version: 1)',
        error: concurrent,
      }),
    ).toBe('warn');
    expect(kafkaEntryLevel(logLevel.ERROR, { message: `Failed to send messages: ${concurrent}`, retryCount: 0 })).toBe(
      'warn',
    );
  });

  it('turns group-membership answers the consumer recovers from by rejoining into warnings', () => {
    for (const error of [
      'The coordinator is not aware of this member',
      'The group is rebalancing, so a rejoin is needed',
      'Specified group generation id is not valid',
    ]) {
      expect(kafkaEntryLevel(logLevel.ERROR, { message: 'Response Heartbeat(key: 12, version: 3)', error })).toBe(
        'warn',
      );
    }
  });

  it('keeps errors that are not retried, and drops info and debug', () => {
    expect(
      kafkaEntryLevel(logLevel.ERROR, {
        message: 'Response Produce(key: 0, version: 7)',
        error:
          'The producer has been rejected from the broker because it tried to use an old epoch with the transactionalId',
      }),
    ).toBe('error');
    expect(kafkaEntryLevel(logLevel.ERROR, { message: 'Crash: KafkaJSNumberOfRetriesExceeded' })).toBe('error');
    expect(kafkaEntryLevel(logLevel.WARN, { message: 'x' })).toBe('warn');
    expect(kafkaEntryLevel(logLevel.INFO, { message: 'x' })).toBeNull();
  });

  it("writes the broker's error text as the reason, and nothing else of the entry", () => {
    const { log, lines } = memoryLogger();
    kafkaLogCreator(log)()({
      level: logLevel.ERROR,
      log: {
        message: 'Response Produce(key: 0, version: 7)',
        error: 'The broker received a duplicate sequence number',
      },
    });
    expect(lines()).toMatchObject([
      { level: 'error', component: 'kafkajs', reason: 'The broker received a duplicate sequence number' },
    ]);
    expect(JSON.stringify(lines())).not.toContain('[redacted]');
  });
});
