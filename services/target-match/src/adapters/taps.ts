// Writes li.<t>.taps for target-match: the tap changes of a batch go out in the batch's
// transaction (remembered once committed); a warrant that leaves effect, or whose new version no
// longer covers a tapped call, untaps its calls at once, through the idempotent producer (the
// tail that reads warrants has no transaction).
import { type Bus, type Codec, type OutputRecord, topicName } from '@li/bus';
import { warrantKey } from '@li/identifiers';
import type { Tap, Warrant } from '@li/schemas';
import { TapBook, type TapChange } from '../domain/taps.ts';
import type { WarrantIndex } from '../domain/warrant-index.ts';

const TAP_SEQ = /^([0-9a-f]{8})\/(\d{1,15})$/;

/** `index`: the warrant index, already holding each warrant record passed to warrant(). */
export async function createTapWriter(bus: Bus, tenants: readonly string[], log: Bus['log'], index: WarrantIndex) {
  for (const tenant of tenants) await bus.ensureTopics(tenant, ['taps']);
  const codecs = await bus.codecsFor<Tap>(tenants, 'taps', 'Tap');
  const book = new TapBook();
  const pending = new WeakMap<object, TapChange[]>();
  const records = async (changes: readonly TapChange[]): Promise<OutputRecord[]> => {
    const out: OutputRecord[] = [];
    // A batch's changes are of one tenant: its topic name and codec are looked up once.
    let topic = '';
    let codec: Codec<Tap> | undefined;
    let tenant: string | undefined;
    for (const c of changes) {
      if (c.tenant !== tenant) {
        tenant = c.tenant;
        topic = topicName(c.tenant, 'taps');
        codec = codecs.get(topic) as Codec<Tap>;
      }
      out.push({ topic, key: c.key, value: c.value === null ? null : await (codec as Codec<Tap>).encode(c.value) });
    }
    return out;
  };
  return {
    book,
    /**
     * A batch's tap records, then for each ingest instance whose events it held, the watermark of
     * its events partition: the highest publication number read (attribute `li.tap-seq`,
     * `<instance>/<n>`; key `~watermark/<instance>/<partition>`, no LIID). Ingest decides that a
     * call without a tap is not tapped once the watermark reaches the call's first event.
     */
    async outputs(
      tenant: string,
      partition: number,
      events: readonly { attributes?: Record<string, string> }[],
      changes: readonly TapChange[],
    ): Promise<OutputRecord[]> {
      const out = await records(changes);
      const latest = new Map<string, number>();
      for (const e of events) {
        const m = TAP_SEQ.exec(e?.attributes?.['li.tap-seq'] ?? '');
        if (m) latest.set(m[1]!, Math.max(latest.get(m[1]!) ?? 0, Number(m[2])));
      }
      const topic = topicName(tenant, 'taps');
      for (const [instance, n] of latest) {
        const key = `~watermark/${instance}/${partition}`;
        const value: Tap = { tenant, communicationId: key, liids: [], tappedAtMicros: n, expiresAtMicros: n };
        out.push({ topic, key, value: await (codecs.get(topic) as Codec<Tap>).encode(value) });
      }
      return out;
    },
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
      if (liid === undefined) return;
      // The version the index holds (a stale or bad record was not applied); none: it left effect.
      const current = value === null ? undefined : index.get(tenant, warrantKey(value));
      const changes = current
        ? book.warrantChanged(tenant, current, (e) => index.match(e, nowMicros), nowMicros)
        : book.warrantEnded(tenant, liid, nowMicros);
      if (changes.length === 0) return;
      try {
        await bus.send(await records(changes));
        book.commit(changes);
      } catch (err) {
        // The taps still expire in ingest; the warrant's end already stops its content in target-match.
        log.warn({ tenant, liid, err }, 'taps of an ended or changed warrant not withdrawn');
      }
    },
  };
}
