// IPv4/IPv6 parsing and canonical text forms. Pure functions: no node:net, so the same code
// runs in every domain layer. IPv6 output follows RFC 5952 (lower case, no leading zeros,
// longest run of two or more zero groups shortened to "::", the first run on a tie).

export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface IpPrefix extends IpAddress {
  /** Prefix length in bits; equals the address width for a single host. */
  length: number;
}

/**
 * Dotted-quad IPv4. Leading zeros are refused: "010" reads as octal on some stacks. Read char by
 * char (no split, no regular expression): target-match parses every event's addresses.
 */
export function parseIpv4(text: string): Uint8Array | null {
  const out = new Uint8Array(4);
  return parseIpv4Into(text, out) ? out : null;
}

/** parseIpv4 into the caller's 4 bytes (no allocation); false, and `out` undefined, if not IPv4. */
export function parseIpv4Into(text: string, out: Uint8Array): boolean {
  let part = 0;
  let n = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i === text.length ? 46 : text.charCodeAt(i);
    if (c === 46) {
      // '.' or the end: an octet of 1-3 digits, no leading zero, at most 255.
      if (digits === 0 || part === 4 || n > 255) return false;
      out[part++] = n;
      n = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3 || (digits === 1 && n === 0)) return false;
      n = n * 10 + (c - 48);
      digits++;
    } else {
      return false;
    }
  }
  return part === 4;
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** IPv6 text (RFC 4291 section 2.2 forms, incl. an embedded IPv4 tail); no zone index. */
export function parseIpv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return null;
  const head = dbl === -1 ? text : text.slice(0, dbl);
  const tail = dbl === -1 ? '' : text.slice(dbl + 2);
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === '' ? [] : tail.split(':');
  const words: number[] = [];
  const tailWords: number[] = [];
  const fill = (groups: string[], into: number[], allowV4Last: boolean): boolean => {
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4Last && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIpv4(g);
        if (!v4) return false;
        into.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        continue;
      }
      if (!HEX_GROUP.test(g)) return false;
      into.push(Number.parseInt(g, 16));
    }
    return true;
  };
  if (dbl === -1) {
    if (!fill(headGroups, words, true)) return null;
    if (words.length !== 8) return null;
  } else {
    if (!fill(headGroups, words, false)) return null;
    if (!fill(tailGroups, tailWords, true)) return null;
    const missing = 8 - words.length - tailWords.length;
    if (missing < 1) return null;
    for (let i = 0; i < missing; i++) words.push(0);
    words.push(...tailWords);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

export function formatIpv4(bytes: Uint8Array): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/** RFC 5952 section 4 canonical text. */
export function formatIpv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 4.2.2: a single 16-bit zero field is not shortened.
  if (bestLen < 2) return words.map((w) => w.toString(16)).join(':');
  const left = words.slice(0, bestStart).map((w) => w.toString(16));
  const right = words.slice(bestStart + bestLen).map((w) => w.toString(16));
  return `${left.join(':')}::${right.join(':')}`;
}

/** A plain address (v4 or v6, an IPv6 zone index dropped, IPv4-mapped IPv6 read as IPv4). */
export function parseIpAddress(text: string): IpAddress | null {
  if (typeof text !== 'string') return null;
  const t = text.trim();
  const v4 = parseIpv4(t);
  if (v4) return { family: 4, bytes: v4 };
  let v6text = t;
  if (v6text.startsWith('[') && v6text.endsWith(']')) v6text = v6text.slice(1, -1);
  const zone = v6text.indexOf('%');
  if (zone !== -1) v6text = v6text.slice(0, zone);
  const v6 = parseIpv6(v6text);
  if (!v6) return null;
  if (isV4Mapped(v6)) return { family: 4, bytes: v6.slice(12) };
  return { family: 6, bytes: v6 };
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** "addr" or "addr/len" of the given family; host bits are zeroed so equal prefixes compare equal. */
export function parseIpPrefix(text: string, family: IpFamily): IpPrefix | null {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addrText = slash === -1 ? t : t.slice(0, slash);
  const width = family === 4 ? 32 : 128;
  let length = width;
  if (slash !== -1) {
    const lenText = t.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(lenText)) return null;
    length = Number(lenText);
    if (length > width) return null;
  }
  const bytes = family === 4 ? parseIpv4(addrText) : parseIpv6(addrText);
  if (!bytes) return null;
  return { family, bytes: maskBytes(bytes, length), length };
}

export function maskBytes(bytes: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const bitsLeft = length - i * 8;
    if (bitsLeft >= 8) continue;
    out[i] = bitsLeft <= 0 ? 0 : out[i]! & ((0xff << (8 - bitsLeft)) & 0xff);
  }
  return out;
}

export function formatIpPrefix(p: IpPrefix): string {
  const addr = p.family === 4 ? formatIpv4(p.bytes) : formatIpv6(p.bytes);
  const width = p.family === 4 ? 32 : 128;
  return p.length === width ? addr : `${addr}/${p.length}`;
}
