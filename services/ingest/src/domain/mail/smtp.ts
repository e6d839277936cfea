// Passive SMTP decoder (RFC 5321, ESMTP PIPELINING RFC 2920, CHUNKING RFC 3030, AUTH RFC 4954,
// STARTTLS RFC 3207). Emits SENT_MAIL per accepted message, LOGIN per AUTH result, and for an
// authenticated session its end: smtp.logout at QUIT, smtp.closed when the connection ends without
// one (the encoder's IRI-END, logoff). Never keeps passwords: SASL responses are reduced to the
// authentication identity as they arrive.
import type { Party } from '@li/schemas';
import type { DecoderSink, Direction, FlowEndpoints, StreamDecoderFactory } from '../stream.ts';
import {
  BoundedBody,
  compact,
  DEFAULT_LIMITS,
  headerValue,
  LineDecoder,
  pathAddress,
  SaslUser,
  type TextDecoderLimits,
  unstuff,
} from './common.ts';

/** Submission and relay ports; 465 is implicit TLS (RFC 8314) and carries nothing readable. */
export const SMTP_DEFAULT_PORTS: readonly number[] = [25, 587, 2525];

type Pending =
  | { verb: 'MAIL'; address: string }
  | { verb: 'RCPT'; address: string }
  | { verb: 'DATA' }
  | { verb: 'DATA_END'; body: BoundedBody }
  | { verb: 'BDAT'; last: boolean }
  | { verb: 'AUTH'; sasl: SaslUser }
  | { verb: 'OTHER'; name: string };

/** Client lines held between DATA and the server's 354/5xx before we know what they are. */
const MAX_HELD_BYTES = 64 * 1024;

class SmtpDecoder extends LineDecoder {
  private pending: Pending[] = [];
  private mode: 'command' | 'held' | 'data' | 'bdat' | 'auth' | 'opaque' = 'command';
  private held: Buffer[] = [];
  private heldBytes = 0;
  private body: BoundedBody | null = null;
  /** Octets of finished message bodies waiting in `pending` for the server's reply. */
  private pendingBodyBytes = 0;
  private bdatRemaining = 0;
  private bdatLast = false;
  private sasl: SaslUser | null = null;
  private mailFrom: string | null = null;
  private rcpts: string[] = [];
  private authUser: string | null = null;
  private helo: string | null = null;
  private replyLines: string[] = [];
  private loggedOut = false;

  constructor(flow: FlowEndpoints, sink: DecoderSink, limits: TextDecoderLimits = DEFAULT_LIMITS) {
    super('smtp', flow, sink, limits);
  }

  protected isOpaque(): boolean {
    return this.mode === 'opaque';
  }

  gap(direction: Direction, length: number, _tsMicros: number): void {
    if (this.mode === 'opaque') return;
    this.out.problem('ING_ERR_STREAM_GAP', `smtp: ${length} octets missing (${direction})`);
    if (direction === 'toServer') {
      this.client.clear();
      if (this.body) this.body.total += length;
      if (this.mode === 'bdat') this.bdatRemaining = Math.max(0, this.bdatRemaining - length);
    } else {
      this.server.clear();
      this.replyLines = [];
    }
  }

  bufferedBytes(): number {
    return this.client.length + this.server.length + this.heldBytes + (this.body?.size ?? 0) + this.pendingBodyBytes;
  }

  protected drainClient(): void {
    for (;;) {
      if (this.mode === 'opaque') return;
      if (this.mode === 'bdat') {
        if (this.bdatRemaining > 0) {
          const chunk = this.client.take(this.bdatRemaining);
          if (chunk.length === 0) return;
          this.bdatRemaining -= chunk.length;
          this.body?.append(chunk);
          if (this.bdatRemaining > 0) return;
        }
        this.pending.push({ verb: 'BDAT', last: this.bdatLast });
        this.mode = 'command';
        continue;
      }
      const line = this.client.nextLine();
      if (line === null) return;
      if (line.kind === 'overlong') {
        this.out.problem('ING_ERR_LINE_TOO_LONG', `smtp: client line of ${line.length} octets skipped`);
        if (this.body) this.body.total += line.length;
        continue;
      }
      switch (this.mode) {
        case 'held':
          this.held.push(line.raw);
          this.heldBytes += line.raw.length;
          // A one-sided capture never shows the 354: past a bound, assume the server accepted DATA.
          if (this.heldBytes > MAX_HELD_BYTES) this.release(true);
          break;
        case 'data':
          this.dataLine(line.raw, line.text);
          break;
        case 'auth':
          if (this.sasl) this.sasl.response(line.text);
          break;
        case 'command':
          this.command(line.text);
          break;
        default:
          this.mode satisfies never;
      }
    }
  }

  private dataLine(raw: Buffer, text: string): void {
    if (text === '.') {
      const body = this.body ?? new BoundedBody(0);
      this.pending.push({ verb: 'DATA_END', body });
      this.pendingBodyBytes += body.size;
      this.body = null;
      this.mode = 'command';
      return;
    }
    this.body?.append(unstuff(raw));
  }

  /** The server answered DATA: replay held lines as message data (354) or as commands. */
  private release(accepted: boolean): void {
    const lines = this.held;
    this.held = [];
    this.heldBytes = 0;
    if (accepted) {
      this.mode = 'data';
      this.body = new BoundedBody(this.limits.maxMessageBytes);
    } else {
      this.mode = 'command';
    }
    for (const raw of lines) {
      let end = raw.length;
      if (end > 0 && raw[end - 1] === 0x0a) end--;
      if (end > 0 && raw[end - 1] === 0x0d) end--;
      const text = raw.toString('utf8', 0, end);
      if (this.mode === 'data') this.dataLine(raw, text);
      else if (this.mode === 'command') this.command(text);
      else if (this.mode === 'held') {
        this.held.push(raw);
        this.heldBytes += raw.length;
      }
    }
  }

  private command(text: string): void {
    const space = text.indexOf(' ');
    const verb = (space < 0 ? text : text.slice(0, space)).toUpperCase();
    const arg = space < 0 ? '' : text.slice(space + 1);
    switch (verb) {
      case 'EHLO':
      case 'HELO':
      case 'LHLO':
        this.helo = arg.trim().split(/\s+/)[0] ?? null;
        this.pending.push({ verb: 'OTHER', name: verb });
        break;
      case 'MAIL':
        this.pending.push({ verb: 'MAIL', address: pathAddress(arg.replace(/^from:\s*/i, '')) });
        break;
      case 'RCPT':
        this.pending.push({ verb: 'RCPT', address: pathAddress(arg.replace(/^to:\s*/i, '')) });
        break;
      case 'DATA':
        this.pending.push({ verb: 'DATA' });
        this.mode = 'held';
        break;
      case 'BDAT': {
        const [size, last] = arg.trim().split(/\s+/);
        const n = Number(size);
        if (!Number.isSafeInteger(n) || n < 0) {
          this.out.problem('ING_ERR_PROTOCOL', 'smtp: BDAT without a valid size');
          this.pending.push({ verb: 'OTHER', name: verb });
          break;
        }
        if (!this.body) this.body = new BoundedBody(this.limits.maxMessageBytes);
        this.bdatRemaining = n;
        this.bdatLast = (last ?? '').toUpperCase() === 'LAST';
        this.mode = 'bdat';
        break;
      }
      case 'AUTH': {
        const [mech, initial] = arg.trim().split(/\s+/);
        this.sasl = new SaslUser(mech ?? '', initial ?? null);
        this.pending.push({ verb: 'AUTH', sasl: this.sasl });
        this.mode = 'auth';
        break;
      }
      case 'RSET':
        this.resetTransaction();
        this.pending.push({ verb: 'OTHER', name: verb });
        break;
      default:
        // STARTTLS included: only its 220 reply makes the session opaque (a 454 keeps it in clear).
        this.pending.push({ verb: 'OTHER', name: verb });
    }
  }

  protected drainServer(ts: number): void {
    for (;;) {
      if (this.mode === 'opaque') return;
      const line = this.server.nextLine();
      if (line === null) return;
      if (line.kind === 'overlong') {
        this.out.problem('ING_ERR_LINE_TOO_LONG', `smtp: server line of ${line.length} octets skipped`);
        continue;
      }
      const m = /^(\d{3})([ -]?)(.*)$/.exec(line.text);
      if (!m) continue;
      this.replyLines.push(m[3] ?? '');
      if (m[2] === '-') continue;
      const code = Number(m[1]);
      this.replyLines = [];
      this.reply(code, ts);
    }
  }

  private reply(code: number, ts: number): void {
    const head = this.pending[0];
    if (!head) return; // greeting or unsolicited (e.g. 421 before close)
    if (head.verb === 'AUTH' && code === 334) return; // challenge: exchange continues
    this.pending.shift();
    if (head.verb === 'DATA_END') this.pendingBodyBytes -= head.body.size;
    const ok = code >= 200 && code < 300;
    switch (head.verb) {
      case 'AUTH': {
        if (this.mode === 'auth') this.mode = 'command';
        this.sasl = null;
        const user = head.sasl.user;
        if (ok && user) this.authUser = user;
        this.out.emit({
          category: 'LOGIN',
          action: ok ? 'smtp.login' : 'smtp.login.failed',
          tsMicros: ts,
          parties: user ? [{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: user }] : [],
          attributes: compact({
            mechanism: head.sasl.mechanism,
            result: ok ? 'success' : 'failure',
            replyCode: `${code}`,
          }),
        });
        break;
      }
      case 'MAIL':
        this.mailFrom = ok ? head.address : null;
        if (ok) this.rcpts = [];
        break;
      case 'RCPT':
        if (ok) this.rcpts.push(head.address);
        break;
      case 'DATA':
        if (this.mode === 'held') this.release(code === 354);
        break;
      case 'DATA_END':
        if (ok) this.sent(head.body, code, ts);
        this.resetTransaction();
        break;
      case 'BDAT':
        if (!ok) {
          this.body = null;
          this.resetTransaction();
        } else if (head.last) {
          this.sent(this.body ?? new BoundedBody(0), code, ts);
          this.body = null;
          this.resetTransaction();
        }
        break;
      case 'OTHER':
        if (head.name === 'STARTTLS' && code === 220) this.startTls(ts);
        if (head.name === 'QUIT') this.logout('smtp.logout', ts);
        break;
      default:
        head satisfies never;
    }
  }

  private startTls(ts: number): void {
    this.mode = 'opaque';
    this.client.clear();
    this.server.clear();
    this.pending = [];
    this.pendingBodyBytes = 0;
    this.out.emit({
      category: 'SIGNALS',
      action: 'smtp.starttls',
      tsMicros: ts,
      parties: this.authUser ? [{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: this.authUser }] : [],
      attributes: compact({ tls: 'true', helo: this.helo, note: 'session encrypted; not decoded further' }),
    });
  }

  private sent(body: BoundedBody, code: number, ts: number): void {
    const message = body.bytes();
    const parties: Party[] = [];
    if (this.mailFrom) parties.push({ role: 'SENDER', type: 'EMAIL', value: this.mailFrom });
    for (const r of this.rcpts) parties.push({ role: 'RECIPIENT', type: 'EMAIL', value: r });
    if (this.authUser) parties.push({ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: this.authUser });
    this.out.emit({
      category: 'SENT_MAIL',
      action: 'smtp.send',
      tsMicros: ts,
      parties,
      attributes: compact({
        messageId: headerValue(message, 'message-id'),
        authUser: this.authUser,
        helo: this.helo,
        recipientCount: `${this.rcpts.length}`,
        size: `${body.total}`,
        truncated: body.truncated ? 'true' : null,
        replyCode: `${code}`,
      }),
      content: message,
      contentType: 'message/rfc822',
    });
  }

  override end(tsMicros: number): void {
    super.end(tsMicros);
    this.logout('smtp.closed', tsMicros);
  }

  /** The end of an authenticated session, once: at QUIT, or when the connection ends without it. */
  private logout(action: 'smtp.logout' | 'smtp.closed', ts: number): void {
    if (!this.authUser || this.loggedOut) return;
    this.loggedOut = true;
    this.out.emit({
      category: 'LOGIN',
      action,
      tsMicros: ts,
      parties: [{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: this.authUser }],
      attributes: { result: 'success' },
    });
  }

  private resetTransaction(): void {
    this.mailFrom = null;
    this.rcpts = [];
  }
}

export interface PortOptions {
  ports?: readonly number[];
  limits?: TextDecoderLimits;
}

export function smtpDecoderFactory(options: PortOptions = {}): StreamDecoderFactory {
  const ports = options.ports ?? SMTP_DEFAULT_PORTS;
  return (flow, sink) =>
    flow.transport === 'tcp' && ports.includes(flow.serverPort) ? new SmtpDecoder(flow, sink, options.limits) : null;
}
