// File numbers (FTP/SFTP names) per LEMF and LIID in the compacted li.<t>.delivery-state: restored
// before any LEMF starts and again at each assignment of a file LEMF's queue partitions, and saved
// before a file is uploaded under its number, so a name is never reused after a restart or when a
// LIID moves between live processes. LEMFs are keyed <tenant>/<id> (domain/lemf-key.ts).
// The topic is a libs/bus Changelog. Its records are sent alone, not in a transaction: a number
// is saved ahead of its upload and joins no consumer offsets, so there is nothing to commit with.
import { type Bus, Changelog, type ChangelogCodec, type OutputRecord, topicName } from '@li/bus';
import type { Logger } from '@li/log';
import { lemfKey, splitLemfKey } from '../domain/lemf-key.ts';

/** One record of li.<t>.delivery-state: the next file number of one LEMF and LIID (key: JSON [lemf, liid]). */
interface FileSeqState {
  lemf: string;
  liid: string;
  next: number;
}

/** JSON; an unreadable record decodes to null (skipped and counted, never fatal to a restore). */
const fileSeqCodec: ChangelogCodec<FileSeqState | null> = {
  encode: (v) => Buffer.from(JSON.stringify(v)),
  decode: (b) => {
    try {
      const s = JSON.parse(b.toString('utf8')) as FileSeqState;
      return typeof s.lemf === 'string' && typeof s.liid === 'string' && Number.isSafeInteger(s.next) ? s : null;
    } catch {
      return null;
    }
  },
};

const changelogOf = (tenant: string) => new Changelog(topicName(tenant, 'delivery-state'), fileSeqCodec);

export class FileSeqStore {
  readonly #bus: Bus;
  readonly #next = new Map<string, Record<string, number>>();
  // Saves are coalesced: one send carries the latest number of every key changed meanwhile.
  readonly #dirty = new Map<string, OutputRecord>();
  #sending: Promise<void> = Promise.resolve();
  #queued: Promise<void> | null = null;

  private constructor(bus: Bus) {
    this.#bus = bus;
  }

  /** Reads every tenant's delivery-state topic; unreadable records are skipped and logged. */
  static async restore(bus: Bus, tenants: readonly string[], log: Logger): Promise<FileSeqStore> {
    const store = new FileSeqStore(bus);
    for (const t of tenants) await store.reload(t, log);
    return store;
  }

  /**
   * Reads one tenant's delivery-state again (read_committed, to its end) and raises every number
   * to what is stored: another process may have used numbers of a LIID that moved here.
   */
  async reload(tenant: string, log: Logger): Promise<void> {
    const { live } = await changelogOf(tenant).read(this.#bus);
    let n = 0;
    let unreadable = 0;
    for (const s of live.values()) {
      if (s === null) unreadable++;
      else {
        this.#raise(lemfKey(tenant, s.lemf), s.liid, s.next);
        n++;
      }
    }
    if (unreadable > 0)
      log.warn({ tenant, count: unreadable, code: 'DLV_ERR_STATE' }, 'unreadable delivery-state records skipped');
    log.info({ tenant, records: n }, 'file numbers restored');
  }

  /** The next file number per LIID of one LEMF (a copy). */
  start(key: string): Record<string, number> {
    return { ...this.#next.get(key) };
  }

  /** A file of `liid` took number `seq`: saves `seq + 1`; resolves once it is on the broker. */
  used(key: string, liid: string, seq: number): Promise<void> {
    this.#raise(key, liid, seq + 1);
    return this.#save(key, liid);
  }

  #raise(key: string, liid: string, next: number): void {
    const m = this.#next.get(key) ?? {};
    m[liid] = Math.max(m[liid] ?? 1, next);
    this.#next.set(key, m);
  }

  #save(key: string, liid: string): Promise<void> {
    const { tenant, lemf } = splitLemfKey(key);
    const state: FileSeqState = { lemf, liid, next: this.#next.get(key)?.[liid] ?? 1 };
    const record = changelogOf(tenant).record({ key: JSON.stringify([lemf, liid]), value: state });
    this.#dirty.set(`${record.topic}\0${record.key}`, record);
    if (!this.#queued) {
      this.#queued = this.#sending
        .catch(() => undefined)
        .then(() => {
          this.#queued = null;
          const records = [...this.#dirty.values()];
          this.#dirty.clear();
          this.#sending = this.#bus.send(records);
          return this.#sending;
        });
    }
    return this.#queued;
  }
}
