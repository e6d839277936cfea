// Passive POP3 decoder (RFC 1939, CAPA/STLS RFC 2449/2595, AUTH RFC 5034). Emits LOGIN on
// USER/PASS, APOP and AUTH results (username only), ACCESS per RETR, PARTIAL per TOP and
// DELETED_MAIL for messages marked with DELE once QUIT commits them (RFC 1939 6: UPDATE state),
// with one ACCESS pop3.deleted for all of them (the Access report's "messages deleted"),
// and for a logged-in session its end: pop3.logout at QUIT, pop3.closed when the connection ends
// without one (the encoder's IRI-END, logoff).
import type { Party } from '@li/schemas';
import type { DecoderSink, Direction, FlowEndpoints, StreamDecoderFactory } from '../stream.ts';
import {
  BoundedBody,
  compact,
  DEFAULT_LIMITS,
  headerValue,
  LineDecoder,
  SaslUser,
  type TextDecoderLimits,
  unstuff,
} from './common.ts';
import type { PortOptions } from './smtp.ts';

export const POP3_DEFAULT_PORTS: readonly number[] = [110];

interface Pending {
  verb: string;
  args: string[];
  sasl?: SaslUser;
}

/** Commands whose +OK starts a dot-terminated multi-line response. */
function isMultiLine(p: Pending): boolean {
  switch (p.verb) {
    case 'RETR':
    case 'TOP':
    case 'CAPA':
      return true;
    case 'LIST':
    case 'UIDL':
      return p.args.length === 0;
    case 'AUTH':
      return p.args.length === 0; // mechanism list
    default:
      return false;
  }
}

class Pop3Decoder extends LineDecoder {
  private pending: Pending[] = [];
  private opaque = false;
  private user: string | null = null;
  private candidateUser: string | null = null;
  private sasl: SaslUser | null = null;
  /** Server multi-line response in progress. */
  private multi: { cmd: Pending; body: BoundedBody } | null = null;
  private deleted = new Set<string>();
  private uids = new Map<string, string>();
  private loggedOut = false;

  constructor(flow: FlowEndpoints, sink: DecoderSink, limits: TextDecoderLimits = DEFAULT_LIMITS) {
    super('pop3', flow, sink, limits);
  }

  protected isOpaque(): boolean {
    return this.opaque;
  }

  gap(direction: Direction, length: number, _tsMicros: number): void {
    if (this.opaque) return;
    this.out.problem('ING_ERR_STREAM_GAP', `pop3: ${length} octets missing (${direction})`);
    if (direction === 'toServer') this.client.clear();
    else {
      this.server.clear();
      if (this.multi) this.multi.body.total += length;
    }
  }

  bufferedBytes(): number {
    return this.client.length + this.server.length + (this.multi?.body.size ?? 0);
  }

  private account(): Party[] {
    return this.user ? [{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: this.user }] : [];
  }

  protected drainClient(): void {
    for (;;) {
      const line = this.client.nextLine();
      if (line === null) return;
      if (line.kind === 'overlong') {
        this.out.problem('ING_ERR_LINE_TOO_LONG', `pop3: client line of ${line.length} octets skipped`);
        continue;
      }
      if (this.sasl) {
        this.sasl.response(line.text);
        continue;
      }
      const words = line.text.trim().split(/\s+/);
      const verb = (words[0] ?? '').toUpperCase();
      const args = words.slice(1);
      if (verb === '') continue;
      const p: Pending = { verb, args };
      if (verb === 'USER') this.candidateUser = args.join(' ');
      if (verb === 'APOP') this.candidateUser = args[0] ?? null; // digest is dropped
      if (verb === 'PASS') p.args = []; // never keep the password
      if (verb === 'AUTH' && args.length > 0) {
        p.sasl = new SaslUser(args[0] ?? '', args[1] ?? null);
        this.sasl = p.sasl;
      }
      this.pending.push(p);
    }
  }

  protected drainServer(ts: number): void {
    for (;;) {
      if (this.opaque) return;
      const line = this.server.nextLine();
      if (line === null) return;
      if (line.kind === 'overlong') {
        this.out.problem('ING_ERR_LINE_TOO_LONG', `pop3: server line of ${line.length} octets skipped`);
        if (this.multi) this.multi.body.total += line.length;
        continue;
      }
      if (this.multi) {
        if (line.text === '.') {
          const done = this.multi;
          this.multi = null;
          this.multiDone(done.cmd, done.body, ts);
        } else {
          this.multi.body.append(unstuff(line.raw));
        }
        continue;
      }
      const ok = line.text.startsWith('+OK');
      const err = line.text.startsWith('-ERR');
      const head = this.pending[0];
      if (!head) continue; // greeting
      // Anything else ("+ challenge" during AUTH, noise) leaves the command pending.
      if (!ok && !err) continue;
      this.pending.shift();
      if (ok && isMultiLine(head)) {
        const cap = head.verb === 'RETR' || head.verb === 'TOP' ? this.limits.maxMessageBytes : 64 * 1024;
        this.multi = { cmd: head, body: new BoundedBody(cap) };
        continue;
      }
      this.single(head, ok, ts);
    }
  }

  private login(ok: boolean, method: string, user: string | null, ts: number): void {
    if (ok && user) this.user = user;
    this.out.emit({
      category: 'LOGIN',
      action: ok ? 'pop3.login' : 'pop3.login.failed',
      tsMicros: ts,
      parties: user ? [{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: user }] : [],
      attributes: { method, result: ok ? 'success' : 'failure' },
    });
  }

  private single(cmd: Pending, ok: boolean, ts: number): void {
    switch (cmd.verb) {
      case 'PASS':
        this.login(ok, 'USER/PASS', this.candidateUser, ts);
        break;
      case 'APOP':
        this.login(ok, 'APOP', this.candidateUser, ts);
        break;
      case 'AUTH':
        this.sasl = null;
        // A bare AUTH asks which SASL mechanisms exist (RFC 5034 §4); -ERR just means none listed.
        if (!cmd.sasl) break;
        this.login(ok, `AUTH ${cmd.sasl?.mechanism ?? ''}`.trim(), cmd.sasl?.user ?? null, ts);
        break;
      case 'DELE':
        if (ok && cmd.args[0]) this.deleted.add(cmd.args[0]);
        break;
      case 'UIDL':
        if (ok && cmd.args[0]) this.uids.set(cmd.args[0], cmd.args[0]);
        break;
      case 'RSET':
        if (ok) this.deleted.clear();
        break;
      case 'QUIT':
        if (ok) this.commitDeletes(ts);
        this.logout('pop3.logout', ts);
        break;
      case 'STLS':
        if (ok) {
          this.opaque = true;
          this.client.clear();
          this.server.clear();
          this.out.emit({
            category: 'SIGNALS',
            action: 'pop3.stls',
            tsMicros: ts,
            parties: this.account(),
            attributes: { tls: 'true', note: 'session encrypted; not decoded further' },
          });
        }
        break;
    }
  }

  override end(tsMicros: number): void {
    super.end(tsMicros);
    this.logout('pop3.closed', tsMicros);
  }

  /** The end of a logged-in session, once: at QUIT, or when the connection ends without it. */
  private logout(action: 'pop3.logout' | 'pop3.closed', ts: number): void {
    if (!this.user || this.loggedOut) return;
    this.loggedOut = true;
    this.out.emit({
      category: 'LOGIN',
      action,
      tsMicros: ts,
      parties: this.account(),
      attributes: { result: 'success' },
    });
  }

  private commitDeletes(ts: number): void {
    const numbers = [...this.deleted];
    for (const n of numbers) {
      this.out.emit({
        category: 'DELETED_MAIL',
        action: 'pop3.dele',
        tsMicros: ts,
        parties: this.account(),
        attributes: compact({ mailbox: 'INBOX', msgNumber: n, uid: this.uids.get(n) }),
      });
    }
    if (numbers.length > 0) {
      // The Access report's "messages deleted" (seed 000): one for all messages QUIT removed.
      const uids = numbers.map((n) => this.uids.get(n));
      this.out.emit({
        category: 'ACCESS',
        action: 'pop3.deleted',
        tsMicros: ts,
        parties: this.account(),
        attributes: compact({
          mailbox: 'INBOX',
          msgNumber: numbers.join(','),
          uid: uids.every((u) => u !== undefined) ? uids.join(',') : null,
        }),
      });
    }
    this.deleted.clear();
  }

  private multiDone(cmd: Pending, body: BoundedBody, ts: number): void {
    if (cmd.verb === 'UIDL' && cmd.args.length === 0) {
      // "n unique-id" per line: lets DELETED_MAIL events carry the stable UID.
      for (const l of body.bytes().toString('utf8').split(/\r?\n/)) {
        const [n, uid] = l.trim().split(/\s+/);
        if (n && uid) this.uids.set(n, uid);
      }
      return;
    }
    if (cmd.verb !== 'RETR' && cmd.verb !== 'TOP') return;
    const message = body.bytes();
    const n = cmd.args[0] ?? '';
    this.out.emit({
      category: cmd.verb === 'RETR' ? 'ACCESS' : 'PARTIAL',
      action: cmd.verb === 'RETR' ? 'pop3.retr' : 'pop3.top',
      tsMicros: ts,
      parties: this.account(),
      attributes: compact({
        mailbox: 'INBOX',
        msgNumber: n,
        uid: this.uids.get(n),
        messageId: headerValue(message, 'message-id'),
        portion: cmd.verb === 'TOP' ? `header+${cmd.args[1] ?? '0'} lines` : null,
        size: `${body.total}`,
        truncated: body.truncated ? 'true' : null,
      }),
      content: message,
      contentType: cmd.verb === 'RETR' ? 'message/rfc822' : 'text/plain',
    });
  }
}

export function pop3DecoderFactory(options: PortOptions = {}): StreamDecoderFactory {
  const ports = options.ports ?? POP3_DEFAULT_PORTS;
  return (flow, sink) =>
    flow.transport === 'tcp' && ports.includes(flow.serverPort) ? new Pop3Decoder(flow, sink, options.limits) : null;
}
