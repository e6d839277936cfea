// A transactional producer for a service's own writes (not consume-transform-produce: that is
// the processor's). Its transactional id is its fence: connecting (InitProducerId) bumps the
// id's epoch, aborts whatever the previous holder left open, and from then on every write of an
// earlier holder fails. It never reconnects by itself: a new connection would fence the holder
// that replaced it, so after a failure the owner decides (re-elect, reload state, make a new one).
import type { Producer } from 'kafkajs';
import { byTopic, EXACTLY_ONCE_PRODUCER, type OutputRecord, requestChunks } from './bus.ts';
import { type BusClient, clientOf } from './client.ts';
import { BusError } from './errors.ts';

export interface TransactionalProducer {
  readonly transactionalId: string;
  /** Takes the transactional id, fencing every earlier holder; then the state it wrote is final. */
  connect(): Promise<void>;
  /**
   * Writes the records in one transaction, all or none (one transaction at a time, in call
   * order). BUS_ERR_FENCED: another producer took the id; this one never writes again.
   */
  send(records: OutputRecord[]): Promise<void>;
  /** false after a failure that may have left it unusable, or after fencing or close. */
  usable(): boolean;
  close(): Promise<void>;
}

// The broker's answers to a holder whose epoch is no longer the id's current one.
const FENCED = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED', 'INVALID_PRODUCER_ID_MAPPING']);

/** Whether a kafkajs error (or one it wraps) says another producer took the transactional id. */
export function isFencedError(err: unknown): boolean {
  type Wrapped = { type?: unknown; code?: unknown; name?: unknown; cause?: unknown; originalError?: unknown };
  let e = err as Wrapped | undefined;
  for (let i = 0; e && i < 8; i++) {
    if (typeof e.type === 'string' && FENCED.has(e.type)) return true;
    if (e.name === 'BusError' && e.code === 'BUS_ERR_FENCED') return true;
    e = (e.originalError ?? e.cause) as Wrapped | undefined;
  }
  return false;
}

export function transactionalProducer(client: BusClient, transactionalId: string): TransactionalProducer {
  const kafka = clientOf(client);
  let producer: Producer | undefined;
  let state: 'new' | 'open' | 'broken' | 'fenced' | 'closed' = 'new';
  let queue: Promise<void> = Promise.resolve();
  const fenced = () =>
    new BusError(
      'BUS_ERR_FENCED',
      `transactional id ${transactionalId} is held by a newer producer: this one was fenced and writes nothing`,
    );

  const connect = async () => {
    if (state !== 'new') throw new BusError('BUS_ERR_FENCED', `transactional producer ${transactionalId} is ${state}`);
    const p = kafka.producer({ ...EXACTLY_ONCE_PRODUCER, transactionalId });
    await p.connect();
    // kafkajs asks for the transactional producer id (the fence) only at the first transaction.
    const first = await p.transaction();
    await first.abort();
    producer = p;
    state = 'open';
  };

  const sendNow = async (records: OutputRecord[]) => {
    if (state === 'fenced') throw fenced();
    if (state !== 'open' || !producer)
      throw new BusError('BUS_ERR_FENCED', `transactional producer ${transactionalId} is ${state}`);
    if (records.length === 0) return;
    const txn = await producer.transaction().catch((err: unknown) => {
      state = isFencedError(err) ? 'fenced' : 'broken';
      throw state === 'fenced' ? fenced() : err;
    });
    try {
      for (const chunk of requestChunks(records)) await txn.sendBatch({ topicMessages: byTopic(chunk), acks: -1 });
      await txn.commit();
    } catch (err) {
      if (isFencedError(err)) {
        state = 'fenced';
        await producer.disconnect().catch(() => {});
        throw fenced();
      }
      // Aborted: nothing of it is visible. Not aborted: the transaction's fate is the
      // coordinator's (it aborts on timeout or when the id is taken again), and after a commit
      // whose answer was lost it may have committed; this producer is done, and its owner
      // reloads the state after taking the id again (which settles the open transaction).
      await txn.abort().catch(() => {
        state = 'broken';
      });
      throw err;
    }
  };

  return {
    transactionalId,
    connect,
    send(records) {
      const run = queue.then(() => sendNow(records));
      queue = run.catch(() => {});
      return run;
    },
    usable: () => state === 'open',
    async close() {
      state = state === 'fenced' ? 'fenced' : 'closed';
      await queue;
      await producer?.disconnect().catch(() => {});
    },
  };
}
