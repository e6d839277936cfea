// IMAP4rev1/rev2 framing (RFC 3501 4.3 / RFC 9051 4.3): a command or response is one line,
// extended by literals `{n}` (synchronising), `{n+}` (LITERAL+, RFC 7888) and `~{n}` (literal8,
// RFC 3516) whose n octets follow the CRLF. The assembler joins those pieces; the tokenizer
// turns the result into atoms, quoted strings, literals and parenthesised lists.
import { BoundedBody, ByteQueue } from './common.ts';

export interface LiteralRef {
  lit: number;
}
interface Quoted {
  q: string;
}
export type Token = string | Quoted | LiteralRef | Token[];

/** One logical command/response: text with literal placeholders and the literal contents. */
export interface Assembled {
  text: string;
  literals: BoundedBody[];
}

// Placeholder characters from the private-use area; stripped from the wire text first.
const LIT_OPEN = '\uE000';
const LIT_CLOSE = '\uE001';
const MAX_PARTS = 10_000;
const MAX_TEXT = 1024 * 1024;

export type AssembleEvent = { kind: 'unit'; unit: Assembled } | { kind: 'overlong'; length: number };

export class ImapAssembler {
  private readonly queue: ByteQueue;
  private readonly maxLiteral: number;
  private text = '';
  private literals: BoundedBody[] = [];
  private remaining = 0;
  /** Octets held in this unit's literals. */
  private literalBytes = 0;
  /** The literal being read is synchronising ({n}) and none of its octets has arrived yet. */
  private syncPending = false;

  constructor(maxLine: number, maxLiteral: number) {
    this.queue = new ByteQueue(maxLine);
    this.maxLiteral = maxLiteral;
  }

  push(bytes: Buffer): void {
    this.queue.push(bytes);
  }

  /** Unread octets, taken out: after COMPRESS they are the start of the compressed stream. */
  takeRest(): Buffer {
    return this.queue.takeAll();
  }

  /** Octets held: unread input, the text and the literals of the unit being assembled. */
  get bufferedBytes(): number {
    return this.queue.length + this.text.length + this.literalBytes;
  }

  /** Forget partial state after a capture gap; a literal in flight just shrinks. */
  gap(length: number): void {
    if (this.remaining > 0) {
      const skip = Math.min(length, this.remaining);
      this.remaining -= skip;
      const lit = this.literals[this.literals.length - 1];
      if (lit) lit.total += skip;
      if (skip === length) return;
    }
    this.queue.clear();
    this.text = '';
    this.literals = [];
    this.literalBytes = 0;
    this.remaining = 0;
  }

  /** Tag of a command stuck before a synchronising literal, or null. */
  waitingTag(): string | null {
    if (!this.syncPending) return null;
    return /^(\S+)/.exec(this.text)?.[1] ?? null;
  }

  /**
   * The server refused the command instead of sending "+" (RFC 3501 7.5), so the client never
   * sends the literal: drop the partial command and read the next line as a new command.
   */
  abandon(): void {
    this.text = '';
    this.literals = [];
    this.literalBytes = 0;
    this.remaining = 0;
    this.syncPending = false;
  }

  next(): AssembleEvent | null {
    for (;;) {
      if (this.remaining > 0) {
        const chunk = this.queue.take(this.remaining);
        if (chunk.length === 0) return null;
        this.syncPending = false;
        this.remaining -= chunk.length;
        const lit = this.literals[this.literals.length - 1];
        if (lit) {
          const before = lit.size;
          lit.append(chunk);
          this.literalBytes += lit.size - before;
        }
        if (this.remaining > 0) return null;
      }
      const line = this.queue.nextLine();
      if (line === null) return null;
      if (line.kind === 'overlong') {
        this.text = '';
        this.literals = [];
        this.literalBytes = 0;
        return line;
      }
      const clean = line.text.replaceAll(LIT_OPEN, '?').replaceAll(LIT_CLOSE, '?');
      const m = /~?\{(\d{1,12})(\+?)\}$/.exec(clean);
      if (m && this.literals.length < MAX_PARTS && this.text.length + clean.length < MAX_TEXT) {
        const n = Number(m[1]);
        this.text += `${clean.slice(0, m.index)}${LIT_OPEN}${this.literals.length}${LIT_CLOSE}`;
        this.literals.push(new BoundedBody(this.maxLiteral));
        this.remaining = n;
        this.syncPending = n > 0 && m[2] !== '+';
        continue;
      }
      const unit: Assembled = { text: this.text + clean, literals: this.literals };
      this.text = '';
      this.literals = [];
      this.literalBytes = 0;
      return { kind: 'unit', unit };
    }
  }
}

/** Lenient tokenizer: never throws; unbalanced parentheses close at the end of input. */
export function tokenize(text: string): Token[] {
  const root: Token[] = [];
  const stack: Token[][] = [root];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    const top = stack[stack.length - 1] ?? root;
    if (c === ' ') {
      i++;
    } else if (c === '(') {
      const list: Token[] = [];
      top.push(list);
      if (stack.length < 64) stack.push(list);
      i++;
    } else if (c === ')') {
      if (stack.length > 1) stack.pop();
      i++;
    } else if (c === '"') {
      let s = '';
      i++;
      while (i < n && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < n) i++;
        s += text[i];
        i++;
      }
      i++;
      top.push({ q: s });
    } else if (c === LIT_OPEN) {
      const close = text.indexOf(LIT_CLOSE, i);
      const end = close < 0 ? n : close;
      top.push({ lit: Number(text.slice(i + 1, end)) });
      i = end + 1;
    } else {
      let s = '';
      while (i < n) {
        const d = text[i] as string;
        if (d === ' ' || d === '(' || d === ')' || d === LIT_OPEN) break;
        if (d === '[') {
          // Section specs ("BODY[HEADER.FIELDS (FROM TO)]") keep spaces and parens inside brackets.
          const close = text.indexOf(']', i);
          const end = close < 0 ? n : close + 1;
          s += text.slice(i, end);
          i = end;
          continue;
        }
        s += d;
        i++;
      }
      top.push(s);
    }
  }
  return root;
}

/** Atom, quoted string or literal as text; null for lists and NIL-less absences. */
export function astring(token: Token | undefined, literals: BoundedBody[]): string | null {
  if (token === undefined || Array.isArray(token)) return null;
  if (typeof token === 'string') return token;
  if ('q' in token) return token.q;
  return literals[token.lit]?.bytes().toString('utf8') ?? null;
}

export function isLiteral(token: Token | undefined): token is LiteralRef {
  return token !== undefined && !Array.isArray(token) && typeof token !== 'string' && 'lit' in token;
}

/** RFC 3501 5.1.3: modified UTF-7 mailbox names → Unicode (best effort). */
export function decodeMailboxName(name: string): string {
  return name.replace(/&([^-]*)-/g, (_all, b: string) => {
    if (b === '') return '&';
    const bytes = Buffer.from(b.replace(/,/g, '/'), 'base64');
    let out = '';
    for (let k = 0; k + 1 < bytes.length; k += 2)
      out += String.fromCharCode(((bytes[k] ?? 0) << 8) | (bytes[k + 1] ?? 0));
    return out;
  });
}
