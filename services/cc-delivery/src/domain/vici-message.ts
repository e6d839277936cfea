// strongSwan's VICI wire format (the protocol swanctl speaks to charon), encode and decode, no
// I/O. A packet is a 32-bit big-endian length, a type byte, for named types a length-prefixed
// name, then a message: a sequence of section / key-value / list elements.

/** A VICI message: values are strings, lists of strings, or nested sections. */
export interface ViciMessage {
  [key: string]: ViciValue;
}
type ViciValue = string | Uint8Array | readonly (string | Uint8Array)[] | ViciMessage;

export const PacketType = {
  CMD_REQUEST: 0,
  CMD_RESPONSE: 1,
  CMD_UNKNOWN: 2,
  EVENT_REGISTER: 3,
  EVENT_UNREGISTER: 4,
  EVENT_CONFIRM: 5,
  EVENT_UNKNOWN: 6,
  EVENT: 7,
} as const;

const SECTION_START = 1;
const SECTION_END = 2;
const KEY_VALUE = 3;
const LIST_START = 4;
const LIST_ITEM = 5;
const LIST_END = 6;

const NAMED = new Set<number>([
  PacketType.CMD_REQUEST,
  PacketType.EVENT_REGISTER,
  PacketType.EVENT_UNREGISTER,
  PacketType.EVENT,
]);

const bytes = (v: string | Uint8Array) => (typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v));

function name8(n: string): Buffer {
  const b = Buffer.from(n, 'utf8');
  if (b.length > 255) throw new RangeError(`VICI name longer than 255 bytes: ${n.slice(0, 32)}`);
  return Buffer.concat([Buffer.from([b.length]), b]);
}

function value16(v: string | Uint8Array): Buffer {
  const b = bytes(v);
  if (b.length > 0xffff) throw new RangeError('VICI value longer than 65535 bytes');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

function encodeMessage(msg: ViciMessage): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(msg)) {
    if (typeof v === 'string' || v instanceof Uint8Array) {
      parts.push(Buffer.from([KEY_VALUE]), name8(k), value16(v));
    } else if (Array.isArray(v)) {
      parts.push(Buffer.from([LIST_START]), name8(k));
      for (const item of v) parts.push(Buffer.from([LIST_ITEM]), value16(item));
      parts.push(Buffer.from([LIST_END]));
    } else {
      parts.push(Buffer.from([SECTION_START]), name8(k), encodeMessage(v as ViciMessage), Buffer.from([SECTION_END]));
    }
  }
  return Buffer.concat(parts);
}

export function encodePacket(type: number, name: string | null, msg: ViciMessage = {}): Buffer {
  const body = Buffer.concat([
    Buffer.from([type]),
    NAMED.has(type) ? name8(name ?? '') : Buffer.alloc(0),
    encodeMessage(msg),
  ]);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

export interface ViciPacket {
  type: number;
  name: string | null;
  message: ViciMessage;
}

/** Decodes one packet body (after the length). Values decode as UTF-8 strings. */
export function decodePacket(body: Uint8Array): ViciPacket {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  let at = 0;
  const need = (n: number) => {
    if (at + n > b.length) throw new RangeError('truncated VICI packet');
  };
  const u8 = () => {
    need(1);
    return b[at++]!;
  };
  const str8 = () => {
    const n = u8();
    need(n);
    const s = b.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const str16 = () => {
    need(2);
    const n = b.readUInt16BE(at);
    at += 2;
    need(n);
    const s = b.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const type = u8();
  const name = NAMED.has(type) ? str8() : null;
  const root: ViciMessage = {};
  const stack: ViciMessage[] = [root];
  let list: string[] | null = null;
  while (at < b.length) {
    const el = u8();
    const top = stack[stack.length - 1]!;
    switch (el) {
      case SECTION_START: {
        const s: ViciMessage = {};
        top[str8()] = s;
        stack.push(s);
        break;
      }
      case SECTION_END:
        if (stack.length === 1) throw new RangeError('VICI section end without start');
        stack.pop();
        break;
      case KEY_VALUE: {
        const k = str8();
        top[k] = str16();
        break;
      }
      case LIST_START:
        list = [];
        top[str8()] = list;
        break;
      case LIST_ITEM:
        if (!list) throw new RangeError('VICI list item outside a list');
        list.push(str16());
        break;
      case LIST_END:
        list = null;
        break;
      default:
        throw new RangeError(`unknown VICI element ${el}`);
    }
  }
  return { type, name, message: root };
}

/** Splits a byte stream into packet bodies; keeps the incomplete tail for the next chunk. */
export class PacketReader {
  #buf: Buffer = Buffer.alloc(0);
  push(chunk: Uint8Array): Uint8Array[] {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : Buffer.from(chunk);
    const out: Uint8Array[] = [];
    while (this.#buf.length >= 4) {
      const n = this.#buf.readUInt32BE(0);
      if (this.#buf.length < 4 + n) break;
      out.push(this.#buf.subarray(4, 4 + n));
      this.#buf = this.#buf.subarray(4 + n);
    }
    return out;
  }
}
