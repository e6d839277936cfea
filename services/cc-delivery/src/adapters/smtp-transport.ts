// E-mail reports (seed 000): each REPORT record is a complete RFC 5322 message composed by the
// iri-encoder; we relay it unchanged. Confirmed only on a 250 to the end of DATA.
import nodemailer, { type Transporter } from 'nodemailer';
import type { DeliveryTransport, OutboundBatch, SendOutcome, TransportStatus } from '../domain/types.ts';
import { type DeliveryError, dlvError } from '../errors.ts';

export interface SmtpOptions {
  host: string;
  port: number;
  from: string;
  to: string[];
  username: string | null;
  password: string | null;
  startTls: boolean;
  /** PEM CA for the relay's certificate; null uses the system store. */
  ca: Buffer | null;
  timeoutMs: number;
}

function mapSmtpError(e: unknown): { error: DeliveryError; permanent: boolean } {
  const err = e as { code?: string; responseCode?: number; message?: string };
  if (err.code === 'EAUTH') return { error: dlvError('DLV_ERR_AUTH', 'SMTP'), permanent: false };
  if (err.code === 'ECONNECTION' || err.code === 'ETIMEDOUT' || err.code === 'ESOCKET' || err.code === 'EDNS') {
    return { error: dlvError('DLV_ERR_CONNECT', err.code), permanent: false };
  }
  if (err.code === 'ETLS') return { error: dlvError('DLV_ERR_TLS', 'STARTTLS'), permanent: false };
  // 5xx to this message's DATA: this report will never be accepted; 4xx and envelope errors may pass later
  const permanent = err.code === 'EMESSAGE' && (err.responseCode ?? 0) >= 500;
  return { error: dlvError('DLV_ERR_SMTP', `${err.code ?? ''} ${err.responseCode ?? ''}`.trim()), permanent };
}

export class SmtpTransport implements DeliveryTransport {
  readonly kind = 'EMAIL';
  readonly #o: SmtpOptions;
  readonly #now: () => number;
  readonly #t: Transporter;
  #st: TransportStatus = { connected: false, lastError: null, lastErrorAt: null, keepaliveRttMs: null, resent: 0 };

  constructor(o: SmtpOptions, now: () => number) {
    this.#o = o;
    this.#now = now;
    this.#t = nodemailer.createTransport({
      host: o.host,
      port: o.port,
      secure: false,
      requireTLS: o.startTls,
      ignoreTLS: !o.startTls,
      pool: true,
      maxConnections: 1,
      connectionTimeout: o.timeoutMs,
      greetingTimeout: o.timeoutMs,
      socketTimeout: o.timeoutMs * 3,
      ...(o.username ? { auth: { user: o.username, pass: o.password ?? '' } } : {}),
      ...(o.ca ? { tls: { ca: o.ca } } : {}),
    });
    this.#t.on('error', (e) => this.#note(mapSmtpError(e).error));
  }

  start(): void {
    // verify() shows bad host or credentials on the status before the first report
    this.#t.verify().then(
      () => {
        this.#st.connected = true;
      },
      (e: unknown) => {
        this.#st.connected = false;
        this.#note(mapSmtpError(e).error);
      },
    );
  }

  async send(batch: OutboundBatch): Promise<SendOutcome> {
    let confirmed = 0;
    for (const r of batch.records) {
      if (r.stream !== 'REPORT') {
        return { confirmed, rejected: true, error: dlvError('DLV_ERR_BAD_RECORD', 'only reports go by e-mail') };
      }
      try {
        const info = await this.#t.sendMail({
          envelope: { from: this.#o.from, to: this.#o.to },
          raw: Buffer.from(r.bytes),
        });
        if (!/^250[ -]/.test(String(info.response)) || (info.rejected?.length ?? 0) > 0) {
          const err = dlvError('DLV_ERR_SMTP', String(info.response).slice(0, 3));
          this.#note(err);
          return { confirmed, error: err };
        }
        this.#st.connected = true;
        confirmed++;
      } catch (e) {
        const m = mapSmtpError(e);
        this.#note(m.error);
        if (!m.permanent) this.#st.connected = false;
        return { confirmed, rejected: m.permanent, error: m.error };
      }
    }
    return { confirmed, error: null };
  }

  status(): TransportStatus {
    return { ...this.#st };
  }

  async close(): Promise<void> {
    this.#t.close();
  }

  #note(e: DeliveryError): void {
    this.#st.lastError = e;
    this.#st.lastErrorAt = this.#now();
  }
}
