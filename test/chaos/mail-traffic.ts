// Traffic for the chaos scenarios: a mail server posting its events to ingest's mail-event API
// (the generic format), session after session: a login, then messages sent with their content
// (EmailIRI on HI2, EmailCC on HI3). Every event can be recognised at the LEMF: the login by its
// client port (one per session), a sent message by its Message-ID (in the IRI, and in the CC's
// content).
//
// The sender behaves as a mail server that queues its events (a delivery hook or event queue,
// as MTAs and mail stores that report to a third party do): it keeps each event until ingest
// answers 2xx, retries on a refused or broken connection and on 5xx (honouring Retry-After),
// and keeps the order of a session's events. An event whose answer was lost (ingest killed
// after it took the event) is posted again: at least once, which the check counts as a
// duplicated event.
import { decodePsPdu } from '@li/etsi';
import type { LemfReceiver, ReceivedRecord } from '../pipeline/lemf.ts';
import type { ExpectedRecords, Identify } from './lemf-check.ts';

export interface MailTrafficOptions {
  /** ingest's mail-event port. */
  port: number;
  /** A `mailserver` token of the tenant. */
  token: string;
  /** The target's mailbox (the warrant's MAIL_ACCOUNT). */
  account: string;
  /** Messages per session (default 3). */
  messages?: number;
  /** Pause between two events (default 40 ms: about 25 events/s). */
  intervalMs?: number;
  /** First client port: sessions use this and the following ones (default 20000). */
  firstClientPort?: number;
}

/** Client port of the warm-up logins (sessions use firstClientPort and up). */
const WARM_UP_PORT = 1;

const CONTENT = 'From: target\r\nTo: bob@example.net\r\nSubject: chaos\r\n';

export class MailTraffic {
  /** Events ingest acknowledged (2xx), with the records each must give at the LEMF. */
  readonly acknowledged = new Map<string, ExpectedRecords>();
  /** Posts that failed and were tried again. */
  retries = 0;
  readonly #o: Required<MailTrafficOptions>;
  #running: Promise<void> | null = null;
  #error: unknown = null;
  #stop = false;
  #session = 0;

  constructor(o: MailTrafficOptions) {
    this.#o = { messages: 3, intervalMs: 40, firstClientPort: 20000, ...o };
  }

  start(): void {
    this.#stop = false;
    this.#running ??= this.#loop()
      .catch((err: unknown) => {
        this.#error = err;
      })
      .finally(() => {
        this.#running = null;
      });
  }

  /** Ends the traffic after the session in hand; resolves when its last event is acknowledged. */
  async stop(): Promise<void> {
    this.#stop = true;
    await this.#running;
    if (this.#error) throw this.#error;
  }

  /** A copy of what has been acknowledged so far. */
  snapshot(): Map<string, ExpectedRecords> {
    return new Map(this.acknowledged);
  }

  /** Recognises this traffic's records (see the file comment). */
  readonly identify: Identify = (r: ReceivedRecord) => {
    const ps = decodePsPdu(r.bytes);
    if (!ps.ok) return null;
    const p = ps.value.payload;
    if (p.kind === 'iri') {
      const c = p.items[0]?.contents;
      if (c?.kind !== 'emailIRI') return null;
      if (c.value.clientPort === WARM_UP_PORT) return 'ignore';
      const event = c.value.messageId ?? (c.value.clientPort !== undefined ? `login:${c.value.clientPort}` : null);
      return event ? { event, kind: 'IRI' } : null;
    }
    if (p.kind === 'cc') {
      const c = p.items[0]?.contents;
      if (c?.kind !== 'emailCC') return null;
      const id = /^Message-ID: (<[^>]+>)/m.exec(Buffer.from(c.value.content).toString('latin1'));
      return id ? { event: id[1]!, kind: 'CC' } : null;
    }
    return null;
  };

  /**
   * Posts logins (not checked) until one reaches the LEMF: target-match applies a new warrant a
   * moment after admf wrote it, and events before that are rightly not intercepted.
   */
  async warmUp(lemf: LemfReceiver, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const arrived = () => lemf.records.some((r) => this.identify(r) === 'ignore');
    while (!arrived()) {
      if (Date.now() > deadline) throw new Error(`no warm-up login reached the LEMF within ${timeoutMs / 1000} s`);
      await this.#post('warm-up', null, {
        type: 'login',
        result: 'success',
        account: this.#o.account,
        protocol: 'smtp',
        session: 'chaos-warm-up',
        clientAddress: '198.51.100.7',
        clientPort: WARM_UP_PORT,
        serverAddress: '192.0.2.25',
        serverPort: 587,
      });
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async #loop(): Promise<void> {
    while (!this.#stop) {
      const s = this.#session++;
      const clientPort = this.#o.firstClientPort + s;
      const common = {
        account: this.#o.account,
        protocol: 'smtp',
        session: `chaos-${clientPort}`,
        clientAddress: '198.51.100.7',
        clientPort,
        serverAddress: '192.0.2.25',
        serverPort: 587,
      };
      await this.#post(`login:${clientPort}`, { iri: 1, cc: 0 }, { ...common, type: 'login', result: 'success' });
      for (let m = 0; m < this.#o.messages; m++) {
        const messageId = `<chaos-${clientPort}-${m}@example.org>`;
        await this.#post(
          messageId,
          { iri: 1, cc: 1 },
          {
            ...common,
            type: 'message.sent',
            sender: this.#o.account,
            recipients: ['bob@example.net'],
            messageId,
            message: Buffer.from(`${CONTENT}Message-ID: ${messageId}\r\n\r\nmessage ${m}\r\n`).toString('base64'),
          },
        );
      }
    }
  }

  /** Posts until ingest takes the event; `records` null: not checked. */
  async #post(event: string, records: ExpectedRecords | null, body: Record<string, unknown>): Promise<void> {
    await new Promise((r) => setTimeout(r, this.#o.intervalMs));
    for (;;) {
      let wait = 200;
      try {
        const res = await fetch(`http://127.0.0.1:${this.#o.port}/ingest/mail-events`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#o.token}` },
          body: JSON.stringify({ ...body, time: Date.now() / 1000 }),
          signal: AbortSignal.timeout(10_000),
        });
        await res.text();
        if (res.ok) {
          if (records) this.acknowledged.set(event, records);
          return;
        }
        // 4xx other than a refusal to wait would be a bug in this sender: stop loudly.
        if (res.status < 500) throw new Error(`ingest refused ${event}: HTTP ${res.status}`);
        wait = Number(res.headers.get('retry-after') ?? 0) * 1000 || wait;
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('ingest refused')) throw err;
      }
      this.retries++;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}
