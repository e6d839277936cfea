// Writes li.<t>.taps for target-match: the tap changes of a batch go out in the batch's
// transaction (remembered once committed); a warrant that leaves effect untaps its calls at once,
// through the idempotent producer (the tail that reads warrants has no transaction).
import { type Bus, type Codec, type OutputRecord, topicName } from '@li/bus';
import type { Tap, Warrant } from '@li/schemas';
import { TapBook, type TapChange } from '../domain/taps.ts';

export async function createTapWriter(bus: Bus, tenants: readonly string[], log: Bus['log']) {
  for (const tenant of tenants) await bus.ensureTopics(tenant, ['taps']);
  const codecs = await bus.codecsFor<Tap>(tenants, 'taps', 'Tap');
  const book = new TapBook();
  const pending = new WeakMap<object, TapChange[]>();
  const records = async (changes: readonly TapChange[]): Promise<OutputRecord[]> => {
    const out: OutputRecord[] = [];
    for (const c of changes) {
      const topic = topicName(c.tenant, 'taps');
      const codec = codecs.get(topic) as Codec<Tap>;
      out.push({ topic, key: c.key, value: c.value === null ? null : await codec.encode(c.value) });
    }
    return out;
  };
  return {
    book,
    records,
    /** Keeps a batch's changes until its result is committed. */
    hold(result: object, changes: TapChange[]): void {
      if (changes.length > 0) pending.set(result, changes);
    },
    committed(result: object): void {
      const changes = pending.get(result);
      if (changes) book.commit(changes);
    },
    /** A warrant record (null: removed) applied to the index. */
    async warrant(tenant: string, liid: string | undefined, value: Warrant | null, nowMicros: number): Promise<void> {
      if (liid === undefined || (value !== null && value.state === 'ACTIVE')) return;
      const changes = book.warrantEnded(tenant, liid, nowMicros);
      if (changes.length === 0) return;
      try {
        await bus.send(await records(changes));
        book.commit(changes);
      } catch (err) {
        // The taps still expire in ingest; the warrant's end already stops its content in target-match.
        log.warn({ tenant, liid, err }, 'taps of an ended warrant not withdrawn');
      }
    },
  };
}
