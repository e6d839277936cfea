// Passive XMPP client-session decoder (RFC 6120 streams and SASL, XEP-0078 legacy iq:auth,
// RFC 6121 message stanzas) for plaintext sessions: LOGIN on SASL success/failure or an
// iq:auth result, SIGNALS xmpp.message per message with a body, xmpp.logout at the client's
// stream close, xmpp.closed when the connection ends without one. After STARTTLS the session is
// encrypted and followed no further.
//
// XML: XMPP allows no DTD, no entity other than the predefined ones, and restarts the stream
// (a new XML declaration and <stream:stream>) after TLS and SASL, which whole-document parsers
// refuse; this small tag reader handles exactly that subset, with every buffer bounded.
import type { Party } from '@li/schemas';
import { compact, GuardedDecoder, SaslUser } from '../mail/common.ts';
import type { DecoderSink, Direction, FlowEndpoints, StreamDecoderFactory } from '../stream.ts';

export const XMPP_DEFAULT_PORTS: readonly number[] = [5222];

/** Octets of one stanza held; beyond, the session is given up with a problem. */
const MAX_STANZA = 1024 * 1024;
/** Characters of one unfinished tag, comment or CDATA section (rescanned as octets arrive, so small). */
const MAX_PENDING = 16 * 1024;

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function xmlText(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/g, (_, e: string) => {
    if (e[0] !== '#') return ENTITIES[e] ?? '';
    const code = e[1] === 'x' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1));
    return code <= 0x10ffff ? String.fromCodePoint(code) : '';
  });
}

const ATTR = /([^\s=/>]+)\s*=\s*("([^"]*)"|'([^']*)')/g;

const localName = (name: string) => name.slice(name.indexOf(':') + 1);

interface XmlHandlers {
  open(attrs: Record<string, string>): void;
  close(): void;
  stanza(el: Element): void;
}

/** Reads one direction's XML into stream opens/closes and whole top-level stanzas. */
class XmlReader {
  #text = '';
  readonly #utf8 = new TextDecoder('utf-8', { fatal: false });
  /** Open elements below the stream element (the stanza being built is the first). */
  #stack: Element[] = [];
  #size = 0;
  readonly #on: XmlHandlers;

  constructor(on: XmlHandlers) {
    this.#on = on;
  }

  get bufferedBytes(): number {
    return this.#text.length + this.#size;
  }

  /** False when the input cannot be XMPP (over the bounds). */
  push(bytes: Buffer): boolean {
    this.#text += this.#utf8.decode(bytes, { stream: true });
    let at = 0;
    const t = this.#text;
    for (;;) {
      const lt = t.indexOf('<', at);
      if (lt < 0) {
        // Keep a reference cut by the segment end ("&am") for the next octets.
        const amp = t.lastIndexOf('&');
        const keep = amp >= at && t.indexOf(';', amp) < 0 && t.length - amp <= 12 ? amp : t.length;
        this.#chars(t.slice(at, keep));
        at = keep;
        break;
      }
      if (lt > at) this.#chars(t.slice(at, lt));
      at = lt;
      let end: number;
      if (t.startsWith('<?', at)) {
        end = t.indexOf('?>', at);
        if (end < 0) break;
        at = end + 2;
        continue;
      }
      if (t.startsWith('<!--', at)) {
        end = t.indexOf('-->', at);
        if (end < 0) break;
        at = end + 3;
        continue;
      }
      if (t.startsWith('<![CDATA[', at)) {
        end = t.indexOf(']]>', at);
        if (end < 0) break;
        this.#chars(t.slice(at + 9, end), true);
        at = end + 3;
        continue;
      }
      end = tagEnd(t, at);
      if (end < 0) break;
      this.#tag(t.slice(at + 1, end));
      at = end + 1;
    }
    this.#text = t.slice(at);
    return this.#text.length <= MAX_PENDING && this.#text.length + this.#size <= MAX_STANZA;
  }

  #chars(s: string, raw = false): void {
    const top = this.#stack[this.#stack.length - 1];
    if (!top || s === '') return;
    top.text += raw ? s : xmlText(s);
    this.#size += s.length;
  }

  #tag(body: string): void {
    if (body.startsWith('!')) return; // a DTD: XMPP forbids it, nothing to read in it
    if (body.startsWith('/')) {
      const name = body.slice(1).trim();
      const el = this.#stack.pop();
      if (!el) {
        if (localName(name) === 'stream') this.#on.close();
        return;
      }
      if (this.#stack.length === 0) this.#done(el);
      return;
    }
    const selfClosing = body.endsWith('/');
    const inner = selfClosing ? body.slice(0, -1) : body;
    const sp = inner.search(/\s/);
    const name = sp < 0 ? inner : inner.slice(0, sp);
    const attrs: Record<string, string> = {};
    ATTR.lastIndex = 0;
    for (let m = ATTR.exec(inner); m; m = ATTR.exec(inner)) attrs[m[1] as string] = xmlText((m[3] ?? m[4]) as string);
    if (this.#stack.length === 0 && localName(name) === 'stream') {
      // A stream header (also the restart after TLS or SASL): never closed by its own tag.
      this.#on.open(attrs);
      return;
    }
    const el: Element = { name: localName(name), attrs, children: [], text: '' };
    this.#size += body.length;
    const parent = this.#stack[this.#stack.length - 1];
    if (parent) parent.children.push(el);
    if (selfClosing) {
      if (!parent) this.#done(el);
    } else this.#stack.push(el);
  }

  #done(el: Element): void {
    this.#size = 0;
    this.#on.stanza(el);
  }
}

/** The index of the '>' ending the tag at `at`, outside quoted attribute values; -1 if not yet there. */
function tagEnd(t: string, at: number): number {
  let q = '';
  for (let i = at + 1; i < t.length; i++) {
    const c = t[i];
    if (q) {
      if (c === q) q = '';
    } else if (c === '"' || c === "'") q = c;
    else if (c === '>') return i;
  }
  return -1;
}

const child = (el: Element, name: string) => el.children.find((c) => c.name === name);
const bare = (jid: string | undefined) => (jid ? (jid.split('/')[0] ?? '').toLowerCase() : '');

class XmppDecoder extends GuardedDecoder {
  readonly #readers: Record<Direction, XmlReader>;
  #opaque = false;
  #domain = '';
  #sasl: SaslUser | null = null;
  #legacy = new Map<string, string>();
  #startTls = false;
  /** The logged-in account (bare JID), once known. */
  #jid: string | null = null;
  #ts = 0;
  #loggedOut = false;

  constructor(flow: FlowEndpoints, sink: DecoderSink) {
    super('XMPP', flow, sink);
    const reader = (dir: Direction) =>
      new XmlReader({
        open: (attrs) => {
          if (dir === 'toServer' && attrs.to) this.#domain = attrs.to.toLowerCase();
        },
        close: () => {
          if (dir === 'toServer') this.#logout('xmpp.logout');
        },
        stanza: (el) => (dir === 'toServer' ? this.#client(el) : this.#server(el)),
      });
    this.#readers = { toServer: reader('toServer'), toClient: reader('toClient') };
  }

  protected step(direction: Direction, bytes: Buffer, tsMicros: number): void {
    if (this.#opaque) return;
    this.#ts = tsMicros;
    if (!this.#readers[direction].push(bytes)) {
      this.out.problem(
        'ING_ERR_LINE_TOO_LONG',
        `xmpp: ${direction} stanza over ${MAX_STANZA} octets; not decoded further`,
      );
      this.#opaque = true;
    }
  }

  gap(direction: Direction, length: number): void {
    if (this.#opaque) return;
    // A hole inside XML leaves no safe place to resume.
    this.out.problem('ING_ERR_STREAM_GAP', `xmpp: ${length} octets missing (${direction}); not decoded further`);
    this.#opaque = true;
  }

  end(tsMicros: number): void {
    this.#ts = tsMicros;
    this.#logout('xmpp.closed');
  }

  bufferedBytes(): number {
    return this.#readers.toServer.bufferedBytes + this.#readers.toClient.bufferedBytes;
  }

  #account(user: string | null): string | null {
    if (!user) return null;
    const u = user.toLowerCase();
    return u.includes('@') || !this.#domain ? u : `${u}@${this.#domain}`;
  }

  #parties(jid: string | null): Party[] {
    return jid ? [{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: jid }] : [];
  }

  #login(ok: boolean, method: string, user: string | null): void {
    const jid = this.#account(user);
    if (ok && jid) this.#jid = jid;
    this.out.emit({
      category: 'LOGIN',
      action: ok ? 'xmpp.login' : 'xmpp.login.failed',
      tsMicros: this.#ts,
      parties: this.#parties(jid),
      attributes: { method, result: ok ? 'success' : 'failure' },
    });
  }

  #logout(action: 'xmpp.logout' | 'xmpp.closed'): void {
    if (!this.#jid || this.#loggedOut) return;
    this.#loggedOut = true;
    this.out.emit({
      category: 'LOGIN',
      action,
      tsMicros: this.#ts,
      parties: this.#parties(this.#jid),
      attributes: { result: 'success' },
    });
  }

  #client(el: Element): void {
    switch (el.name) {
      case 'starttls':
        this.#startTls = true;
        return;
      case 'auth':
        this.#sasl = new SaslUser(el.attrs.mechanism ?? '', el.text.trim() === '=' ? null : el.text.trim());
        return;
      case 'response':
        this.#sasl?.response(el.text.trim());
        return;
      case 'iq': {
        const q = child(el, 'query');
        const user = q && q.attrs.xmlns === 'jabber:iq:auth' ? child(q, 'username')?.text.trim() : undefined;
        // The password element is never kept.
        if (el.attrs.type === 'set' && user && el.attrs.id !== undefined && this.#legacy.size < 100)
          this.#legacy.set(el.attrs.id, user);
        return;
      }
      case 'message':
        this.#message(el, 'sent');
        return;
    }
  }

  #server(el: Element): void {
    switch (el.name) {
      case 'proceed':
        if (!this.#startTls) return;
        this.#opaque = true;
        this.out.emit({
          category: 'SIGNALS',
          action: 'xmpp.starttls',
          tsMicros: this.#ts,
          parties: this.#parties(this.#jid),
          attributes: { tls: 'true', note: 'session encrypted; not decoded further' },
        });
        return;
      case 'success':
      case 'failure':
        // A <failure/> answers STARTTLS too; only a SASL exchange in progress makes it a login.
        if (!this.#sasl) return;
        this.#login(el.name === 'success', `SASL ${this.#sasl.mechanism}`, this.#sasl.user);
        this.#sasl = null;
        return;
      case 'iq': {
        const id = el.attrs.id;
        const legacyUser = id === undefined ? undefined : this.#legacy.get(id);
        if (legacyUser !== undefined && id !== undefined) {
          this.#legacy.delete(id);
          if (el.attrs.type === 'result' || el.attrs.type === 'error')
            this.#login(el.attrs.type === 'result', 'iq:auth', legacyUser);
          return;
        }
        // Resource binding tells the full JID the server assigned (RFC 6120 §7).
        const jid = child(child(el, 'bind') ?? el, 'jid')?.text.trim();
        if (el.attrs.type === 'result' && jid && !this.#jid) this.#jid = bare(jid);
        return;
      }
      case 'message':
        this.#message(el, 'received');
        return;
    }
  }

  #message(el: Element, direction: 'sent' | 'received'): void {
    const body = child(el, 'body');
    if (!body) return; // chat states, receipts: no content
    const from = bare(el.attrs.from) || (direction === 'sent' ? (this.#jid ?? '') : '');
    const to = bare(el.attrs.to) || (direction === 'received' ? (this.#jid ?? '') : '');
    const parties: Party[] = [];
    if (from) parties.push({ role: 'SENDER', type: 'EMAIL', value: from });
    if (to) parties.push({ role: 'RECIPIENT', type: 'EMAIL', value: to });
    if (this.#jid && from !== this.#jid && to !== this.#jid)
      parties.push({ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: this.#jid });
    this.out.emit({
      category: 'SIGNALS',
      action: 'xmpp.message',
      tsMicros: this.#ts,
      parties,
      attributes: compact({ direction, type: el.attrs.type, id: el.attrs.id, subject: child(el, 'subject')?.text }),
      content: Buffer.from(body.text, 'utf8'),
      contentType: 'text/plain; charset=utf-8',
    });
  }
}

/** XMPP client-to-server sessions on the given server ports (default 5222). */
export function xmppDecoderFactory(options: { ports?: readonly number[] } = {}): StreamDecoderFactory {
  const ports = options.ports ?? XMPP_DEFAULT_PORTS;
  return (flow, sink) =>
    flow.transport === 'tcp' && ports.includes(flow.serverPort) ? new XmppDecoder(flow, sink) : null;
}
