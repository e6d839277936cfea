// Passive IMAP decoder (RFC 3501 / RFC 9051, UIDPLUS RFC 4315, LITERAL+ RFC 7888, SASL-IR
// RFC 4959). Maps the session to seed-000 report kinds: LOGIN, MAILBOX (create/rename/delete),
// ACCESS (whole message fetched), PARTIAL (a section or byte range fetched), DELETED_MAIL
// (expunge of \Deleted messages; also ACCESS imap.deleted, the Access report's "messages deleted"), NEW_MAIL (APPEND, COPY/MOVE into a mailbox), and for a
// logged-in session its end: imap.logout at LOGOUT, imap.closed when the connection ends without
// one (the encoder's IRI-END, logoff).
import type { Party } from '@li/schemas';
import { Inflate } from 'fflate';
import type { DecoderSink, Direction, FlowEndpoints, StreamDecoderFactory } from '../stream.ts';
import {
  type BoundedBody,
  compact,
  DEFAULT_LIMITS,
  GuardedDecoder,
  headerValue,
  SaslUser,
  type TextDecoderLimits,
} from './common.ts';
import {
  type Assembled,
  astring,
  decodeMailboxName,
  ImapAssembler,
  isLiteral,
  type Token,
  tokenize,
} from './imap-syntax.ts';
import type { PortOptions } from './smtp.ts';

export const IMAP_DEFAULT_PORTS: readonly number[] = [143];

interface Command {
  tag: string;
  name: string;
  uid: boolean;
  args: Token[];
  literals: BoundedBody[];
  sasl?: SaslUser;
  loginUser?: string | null;
  expunged: string[];
}

/** Commands whose untagged EXPUNGE/VANISHED responses remove messages on the user's behalf. */
const EXPUNGERS = new Set(['EXPUNGE', 'MOVE']);

class ImapDecoder extends GuardedDecoder {
  private readonly client: ImapAssembler;
  private readonly server: ImapAssembler;
  private pending = new Map<string, Command>();
  private opaque = false;
  private authenticating: Command | null = null;
  private user: string | null = null;
  private selected: string | null = null;
  private deletedMarks: string[] = [];
  private loggedOut = false;
  /** After COMPRESS=DEFLATE (RFC 4978): one raw-deflate stream per direction. */
  private inflaters: Record<Direction, Inflater> | null = null;

  constructor(flow: FlowEndpoints, sink: DecoderSink, limits: TextDecoderLimits = DEFAULT_LIMITS) {
    super('imap', flow, sink);
    this.client = new ImapAssembler(limits.maxLineBytes, limits.maxMessageBytes);
    this.server = new ImapAssembler(limits.maxLineBytes, limits.maxMessageBytes);
  }

  protected step(direction: Direction, bytes: Buffer, tsMicros: number): void {
    if (this.opaque) return;
    const side = direction === 'toServer' ? this.client : this.server;
    if (this.inflaters) {
      if (!this.inflate(direction, bytes)) return;
    } else side.push(bytes);
    for (;;) {
      if (this.opaque) return;
      const ev = side.next();
      if (ev === null) return;
      if (ev.kind === 'overlong') {
        this.out.problem('ING_ERR_LINE_TOO_LONG', `imap: ${direction} line of ${ev.length} octets skipped`);
        continue;
      }
      if (direction === 'toServer') this.command(ev.unit);
      else this.response(ev.unit, tsMicros);
    }
  }

  gap(direction: Direction, length: number, _tsMicros: number): void {
    if (this.opaque) return;
    if (this.inflaters) {
      // A deflate stream cannot be resumed after a hole: its dictionary is lost.
      this.out.problem(
        'ING_ERR_STREAM_GAP',
        `imap: ${length} octets missing from a compressed session (${direction}); not decoded further`,
      );
      this.opaque = true;
      return;
    }
    this.out.problem('ING_ERR_STREAM_GAP', `imap: ${length} octets missing (${direction})`);
    (direction === 'toServer' ? this.client : this.server).gap(length);
  }

  end(tsMicros: number): void {
    this.pending.clear();
    this.logout('imap.closed', tsMicros);
  }

  /** The end of a logged-in session, once: at LOGOUT, or when the connection ends without it. */
  private logout(action: 'imap.logout' | 'imap.closed', ts: number): void {
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

  bufferedBytes(): number {
    return this.client.bufferedBytes + this.server.bufferedBytes;
  }

  /** Inflates compressed octets into the direction's assembler; false once the stream is broken. */
  private inflate(direction: Direction, bytes: Buffer): boolean {
    const inf = this.inflaters?.[direction];
    if (!inf || this.opaque) return false;
    const side = direction === 'toServer' ? this.client : this.server;
    if (inf.push(bytes, (out) => side.push(out))) return true;
    this.out.problem(
      'ING_ERR_PROTOCOL',
      `imap: compressed ${direction} stream is not valid DEFLATE; not decoded further`,
    );
    this.opaque = true;
    return false;
  }

  private account(): Party[] {
    return this.user ? [{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: this.user }] : [];
  }

  private command(unit: Assembled): void {
    if (this.authenticating?.sasl) {
      // RFC 3501 6.2.2: client lines during AUTHENTICATE are base64 responses, not commands.
      this.authenticating.sasl.response(unit.text);
      return;
    }
    const tokens = tokenize(unit.text);
    const tag = tokens[0];
    if (typeof tag !== 'string' || tag === '' || tag.toUpperCase() === 'DONE') return;
    let name = typeof tokens[1] === 'string' ? tokens[1].toUpperCase() : '';
    let uid = false;
    let args = tokens.slice(2);
    if (name === 'UID' && typeof tokens[2] === 'string') {
      uid = true;
      name = tokens[2].toUpperCase();
      args = tokens.slice(3);
    }
    if (name === '') return;
    const cmd: Command = { tag, name, uid, args, literals: unit.literals, expunged: [] };
    if (name === 'LOGIN') {
      cmd.loginUser = astring(args[0], unit.literals);
      // The password (args[1]) is dropped with the token list below.
      cmd.args = [];
      cmd.literals = [];
    }
    if (name === 'AUTHENTICATE') {
      cmd.sasl = new SaslUser(astring(args[0], unit.literals) ?? '', astring(args[1], unit.literals));
      cmd.args = [];
      this.authenticating = cmd;
    }
    if (this.pending.size > 1000) this.pending.clear(); // a peer that never answers
    this.pending.set(tag, cmd);
  }

  private response(unit: Assembled, ts: number): void {
    const tokens = tokenize(unit.text);
    const first = tokens[0];
    if (first === '+') return;
    if (first === '*') {
      this.untagged(tokens, unit, ts);
      return;
    }
    if (typeof first !== 'string') return;
    if (this.client.waitingTag() === first) {
      this.client.abandon();
      this.out.problem('ING_ERR_PROTOCOL', 'imap: command refused before its literal was sent');
    }
    const cmd = this.pending.get(first);
    if (!cmd) return;
    this.pending.delete(first);
    const status = typeof tokens[1] === 'string' ? tokens[1].toUpperCase() : '';
    this.completed(cmd, status, unit.text, ts);
  }

  private untagged(tokens: Token[], unit: Assembled, ts: number): void {
    const t1 = typeof tokens[1] === 'string' ? tokens[1].toUpperCase() : '';
    const t2 = typeof tokens[2] === 'string' ? tokens[2].toUpperCase() : '';
    if (t2 === 'FETCH' && Array.isArray(tokens[3])) {
      this.fetched(t1, tokens[3], unit.literals, ts);
      return;
    }
    if (t2 === 'EXPUNGE' || t1 === 'VANISHED') {
      const which = t1 === 'VANISHED' ? `uid:${String(tokens[tokens.length - 1])}` : t1;
      const owner = [...this.pending.values()].reverse().find((c) => EXPUNGERS.has(c.name));
      owner?.expunged.push(which);
    }
  }

  /** One untagged FETCH: every body item is one ACCESS or PARTIAL report. */
  private fetched(seq: string, items: Token[], literals: BoundedBody[], ts: number): void {
    let uid: string | null = null;
    for (let k = 0; k + 1 < items.length; k += 2) {
      const name = items[k];
      if (typeof name === 'string' && name.toUpperCase() === 'UID') uid = astring(items[k + 1], literals);
    }
    for (let k = 0; k + 1 < items.length; k += 2) {
      const raw = items[k];
      if (typeof raw !== 'string') continue;
      const name = raw.toUpperCase();
      const kind = fetchKind(name);
      if (kind === null) continue;
      const value = items[k + 1];
      let content: Buffer | null = null;
      let size = 0;
      let truncated = false;
      if (isLiteral(value)) {
        const lit = literals[value.lit];
        content = lit ? lit.bytes() : null;
        size = lit?.total ?? 0;
        truncated = lit?.truncated ?? false;
      } else {
        const s = astring(value, literals);
        if (s !== null && s.toUpperCase() !== 'NIL') {
          content = Buffer.from(s, 'utf8');
          size = content.length;
        }
      }
      const full = kind === 'full';
      this.out.emit({
        category: full ? 'ACCESS' : 'PARTIAL',
        action: full ? 'imap.fetch' : 'imap.fetch.partial',
        tsMicros: ts,
        parties: this.account(),
        attributes: compact({
          mailbox: this.selected,
          msgSequence: seq,
          uid,
          section: full ? null : raw,
          messageId: full && content ? headerValue(content, 'message-id') : null,
          size: `${size}`,
          truncated: truncated ? 'true' : null,
        }),
        content,
        contentType: full
          ? 'message/rfc822'
          : /HEADER/i.test(name)
            ? 'text/rfc822-headers'
            : 'application/octet-stream',
      });
    }
  }

  private completed(cmd: Command, status: string, text: string, ts: number): void {
    const ok = status === 'OK';
    const code = /\[([^\]]*)\]/.exec(text)?.[1] ?? '';
    const mailboxArg = (i: number): string | null => {
      const s = astring(cmd.args[i], cmd.literals);
      return s === null ? null : decodeMailboxName(s);
    };
    switch (cmd.name) {
      case 'LOGIN':
      case 'AUTHENTICATE': {
        if (cmd === this.authenticating) this.authenticating = null;
        const user = cmd.name === 'LOGIN' ? (cmd.loginUser ?? null) : (cmd.sasl?.user ?? null);
        if (ok && user) this.user = user;
        this.out.emit({
          category: 'LOGIN',
          action: ok ? 'imap.login' : 'imap.login.failed',
          tsMicros: ts,
          parties: user ? [{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: user }] : [],
          attributes: compact({
            method: cmd.name === 'LOGIN' ? 'LOGIN' : `AUTHENTICATE ${cmd.sasl?.mechanism ?? ''}`.trim(),
            result: ok ? 'success' : 'failure',
          }),
        });
        break;
      }
      case 'SELECT':
      case 'EXAMINE':
        this.selected = ok ? mailboxArg(0) : null;
        this.deletedMarks = [];
        break;
      case 'CLOSE':
      case 'UNSELECT':
        // CLOSE silently expunges \Deleted messages (RFC 3501 6.4.2); UNSELECT does not.
        if (ok && cmd.name === 'CLOSE' && this.deletedMarks.length > 0) this.deletedReport(cmd, ts);
        if (ok) {
          this.selected = null;
          this.deletedMarks = [];
        }
        break;
      case 'CREATE':
      case 'DELETE':
      case 'RENAME':
        if (!ok) break;
        this.out.emit({
          category: 'MAILBOX',
          action: `imap.mailbox.${cmd.name === 'CREATE' ? 'created' : cmd.name === 'DELETE' ? 'removed' : 'renamed'}`,
          tsMicros: ts,
          parties: this.account(),
          attributes: compact({ mailbox: mailboxArg(0), newMailbox: cmd.name === 'RENAME' ? mailboxArg(1) : null }),
        });
        break;
      case 'STORE': {
        const set = astring(cmd.args[0], cmd.literals);
        const op = (astring(cmd.args[1], cmd.literals) ?? '').toUpperCase();
        const flags = JSON.stringify(cmd.args.slice(2)).toUpperCase();
        if (ok && set && flags.includes('\\\\DELETED') && !op.startsWith('-')) {
          this.deletedMarks.push(`${cmd.uid ? 'uid:' : ''}${set}`);
        }
        break;
      }
      case 'EXPUNGE':
        if (ok && (cmd.expunged.length > 0 || this.deletedMarks.length > 0)) this.deletedReport(cmd, ts);
        break;
      case 'APPEND':
        if (ok) this.appended(cmd, code, ts);
        break;
      case 'LOGOUT':
        this.logout('imap.logout', ts);
        break;
      case 'COPY':
      case 'MOVE':
        if (!ok) break;
        this.out.emit({
          category: 'NEW_MAIL',
          action: cmd.name === 'COPY' ? 'imap.copy' : 'imap.move',
          tsMicros: ts,
          parties: this.account(),
          attributes: compact({
            mailbox: mailboxArg(1),
            sourceMailbox: this.selected,
            messages: `${cmd.uid ? 'uid:' : ''}${astring(cmd.args[0], cmd.literals) ?? ''}`,
            copyUid: code.toUpperCase().startsWith('COPYUID') ? code.slice(8) : null,
            source: cmd.name === 'COPY' ? 'copied from other mailbox' : 'moved from other mailbox',
          }),
        });
        break;
      case 'COMPRESS':
        // RFC 4978: after OK both directions are one raw DEFLATE stream each; inflate and go on.
        if (!ok || this.inflaters) break;
        if (astring(cmd.args[0], cmd.literals)?.toUpperCase() === 'DEFLATE') {
          this.inflaters = { toServer: new Inflater(), toClient: new Inflater() };
          this.out.emit({
            category: 'SIGNALS',
            action: 'imap.compress',
            tsMicros: ts,
            parties: this.account(),
            attributes: { compression: 'deflate', note: 'session compressed; decoded after inflating' },
          });
          // What followed the OK in the same segments is already compressed.
          this.inflate('toClient', this.server.takeRest());
          this.inflate('toServer', this.client.takeRest());
          break;
        }
        this.opaque = true;
        this.out.emit({
          category: 'SIGNALS',
          action: 'imap.compress',
          tsMicros: ts,
          parties: this.account(),
          attributes: { compression: 'unknown', note: 'session compressed; not decoded further' },
        });
        break;
      case 'STARTTLS':
        // RFC 3501 6.2.1: after OK the stream is TLS; we stop and say so.
        if (!ok) break;
        this.opaque = true;
        this.out.emit({
          category: 'SIGNALS',
          action: 'imap.starttls',
          tsMicros: ts,
          parties: this.account(),
          attributes: { tls: 'true', note: 'session encrypted; not decoded further' },
        });
        break;
    }
  }

  /**
   * Messages removed: a DELETED_MAIL event (seed 000's Deleted Message report) and an ACCESS
   * imap.deleted (its Access report, action "messages deleted"); each warrant's selection picks.
   */
  private deletedReport(cmd: Command, ts: number): void {
    const attributes = compact({
      mailbox: this.selected,
      expunged: cmd.expunged.join(','),
      marked: this.deletedMarks.join(','),
      uidSet: cmd.uid ? (astring(cmd.args[0], cmd.literals) ?? null) : null,
    });
    const parties = this.account();
    this.out.emit({
      category: 'DELETED_MAIL',
      action: cmd.name === 'CLOSE' ? 'imap.close' : 'imap.expunge',
      tsMicros: ts,
      parties,
      attributes,
    });
    this.out.emit({ category: 'ACCESS', action: 'imap.deleted', tsMicros: ts, parties, attributes: { ...attributes } });
    this.deletedMarks = [];
  }

  private appended(cmd: Command, code: string, ts: number): void {
    const mailbox = astring(cmd.args[0], cmd.literals);
    const uids = code.toUpperCase().startsWith('APPENDUID') ? code.split(/\s+/).slice(1) : [];
    // MULTIAPPEND (RFC 3502) carries several messages: one report each.
    const messages = cmd.args.filter(isLiteral);
    messages.forEach((ref, idx) => {
      const lit = cmd.literals[ref.lit];
      if (!lit) return;
      const body = lit.bytes();
      this.out.emit({
        category: 'NEW_MAIL',
        action: 'imap.append',
        tsMicros: ts,
        parties: this.account(),
        attributes: compact({
          mailbox: mailbox === null ? null : decodeMailboxName(mailbox),
          uidValidity: uids[0],
          uid: messages.length === 1 ? uids[1] : (uids[1]?.split(',')[idx] ?? null),
          messageId: headerValue(body, 'message-id'),
          source: 'appended',
          size: `${lit.total}`,
          truncated: lit.truncated ? 'true' : null,
        }),
        content: body,
        contentType: 'message/rfc822',
      });
    });
  }
}

/** RFC 3501 6.4.5: RFC822 and BODY[]/BINARY[] without a range are the whole message. */
export function fetchKind(name: string): 'full' | 'partial' | null {
  const upper = name.toUpperCase();
  if (upper === 'RFC822' || upper === 'BODY[]' || upper === 'BINARY[]' || upper === 'BODY.PEEK[]') return 'full';
  if (upper === 'RFC822.HEADER' || upper === 'RFC822.TEXT') return 'partial';
  if (/^(BODY|BINARY)(\.PEEK)?\[/.test(upper)) return 'partial';
  return null;
}

export function imapDecoderFactory(options: PortOptions = {}): StreamDecoderFactory {
  const ports = options.ports ?? IMAP_DEFAULT_PORTS;
  return (flow, sink) =>
    flow.transport === 'tcp' && ports.includes(flow.serverPort) ? new ImapDecoder(flow, sink, options.limits) : null;
}

/** Input octets inflated per call: bounds the output of one call (DEFLATE expands at most ~1032:1). */
const INFLATE_SLICE = 1024;

/** A streaming raw-DEFLATE inflater (fflate: pure JS, synchronous, keeps the window across pushes). */
class Inflater {
  #out: ((b: Buffer) => void) | null = null;
  readonly #inflate = new Inflate((chunk) => this.#out?.(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)));

  /** Inflates `bytes`, handing output to `out` as it comes; false if the stream is not valid DEFLATE. */
  push(bytes: Buffer, out: (b: Buffer) => void): boolean {
    this.#out = out;
    try {
      for (let i = 0; i < bytes.length; i += INFLATE_SLICE)
        this.#inflate.push(bytes.subarray(i, i + INFLATE_SLICE), false);
      return true;
    } catch {
      return false;
    } finally {
      this.#out = null;
    }
  }
}
