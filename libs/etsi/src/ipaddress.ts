// IPAddress as defined in TS 102 232-1 (copied there from TS 101 671; same tags in both).
import { isIP } from 'node:net';
import {
  BerError,
  type BerWriter,
  byTag,
  CONTEXT,
  checkRange,
  children,
  choiceOf,
  EtsiEncodeError,
  expectConstructed,
  need,
  readBool,
  readLatin1,
  readOctets,
  readUint,
  type Tlv,
} from './ber.ts';

export const IP_TYPE = { iPV4: 0, iPV6: 1 } as const;
export const IP_ASSIGNMENT = { static: 1, dynamic: 2, notKnown: 3 } as const;

export type IpValue = { kind: 'binary'; bytes: Uint8Array } | { kind: 'text'; text: string };

export interface IpAddress {
  /** iP-type [1]: 0 IPv4, 1 IPv6. */
  type: number;
  value: IpValue;
  /** iP-assignment [3]: 1 static, 2 dynamic, 3 notKnown. */
  assignment?: number;
  iPv6PrefixLength?: number;
  iPv4SubnetMask?: Uint8Array;
  natTranslated?: boolean;
}

/** Binary IPAddress from dotted/colon text; undefined when the text is not an IP address. */
export function ipAddressFromString(text: string, assignment?: number): IpAddress | undefined {
  const v = isIP(text);
  if (v === 4) {
    const parts = text.split('.').map(Number);
    const out: IpAddress = { type: IP_TYPE.iPV4, value: { kind: 'binary', bytes: Uint8Array.from(parts) } };
    if (assignment !== undefined) out.assignment = assignment;
    return out;
  }
  if (v === 6) {
    const out: IpAddress = { type: IP_TYPE.iPV6, value: { kind: 'binary', bytes: ipv6Bytes(text) } };
    if (assignment !== undefined) out.assignment = assignment;
    return out;
  }
  return undefined;
}

function ipv6Bytes(text: string): Uint8Array {
  let t = text;
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  // Embedded IPv4 tail (::ffff:192.0.2.1).
  const lastColon = t.lastIndexOf(':');
  const tail = t.slice(lastColon + 1);
  let groups: number[] = [];
  let v4: number[] = [];
  if (tail.includes('.')) {
    v4 = tail.split('.').map(Number);
    t = t.slice(0, lastColon + 1) + '0:0';
  }
  const [head = '', rest] = t.split('::');
  const h = head === '' ? [] : head.split(':');
  const r = rest === undefined || rest === '' ? [] : rest.split(':');
  const fill = rest === undefined ? 0 : 8 - h.length - r.length;
  groups = [
    ...h.map((x) => Number.parseInt(x, 16)),
    ...new Array<number>(fill).fill(0),
    ...r.map((x) => Number.parseInt(x, 16)),
  ];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = (groups[i]! >> 8) & 0xff;
    out[i * 2 + 1] = groups[i]! & 0xff;
  }
  if (v4.length === 4) out.set(v4, 12);
  return out;
}

/** iPTextAddress (IA5String): one address, or an address with its /prefix (the module's examples). */
function isIpText(t: string): boolean {
  const slash = t.indexOf('/');
  const address = slash < 0 ? t : t.slice(0, slash);
  const v = /^[\x21-\x7e]+$/.test(address) ? isIP(address) : 0;
  if (v === 0 || slash < 0) return v !== 0;
  const prefix = t.slice(slash + 1);
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (v === 4 ? 32 : 128);
}

export function encodeIpAddress(w: BerWriter, num: number, a: IpAddress): void {
  w.open(CONTEXT, num);
  w.int(CONTEXT, 1, a.type);
  w.open(CONTEXT, 2); // iP-value is a CHOICE: explicit wrapper
  if (a.value.kind === 'binary') {
    const n = a.value.bytes.length;
    if (n < 4 || n > 16) throw new EtsiEncodeError('iPBinaryAddress must be 4..16 octets');
    w.octets(CONTEXT, 1, a.value.bytes);
  } else {
    const t = a.value.text;
    if (t.length < 7 || t.length > 45 || !isIpText(t)) {
      throw new EtsiEncodeError('iPTextAddress must be an IP address or address/prefix text of 7..45 characters');
    }
    w.latin1(CONTEXT, 2, a.value.text);
  }
  w.end();
  if (a.assignment !== undefined) w.int(CONTEXT, 3, a.assignment);
  if (a.iPv6PrefixLength !== undefined) {
    checkRange(a.iPv6PrefixLength, 1, 128, 'iPv6PrefixLength');
    w.int(CONTEXT, 4, a.iPv6PrefixLength);
  }
  if (a.iPv4SubnetMask !== undefined) {
    if (a.iPv4SubnetMask.length !== 4) throw new EtsiEncodeError('iPv4SubnetMask must be 4 octets');
    w.octets(CONTEXT, 5, a.iPv4SubnetMask);
  }
  if (a.natTranslated !== undefined) w.bool(CONTEXT, 6, a.natTranslated);
  w.end();
}

export function decodeIpAddress(buf: Uint8Array, t: Tlv): IpAddress {
  expectConstructed(t, 'IPAddress');
  const m = byTag(children(buf, t));
  const type = readUint(buf, need(m, 1, 'iP-type', t), 255);
  const alt = choiceOf(buf, need(m, 2, 'iP-value', t), 'iP-value');
  let value: IpValue;
  if (alt.num === 1) value = { kind: 'binary', bytes: readOctets(buf, alt) };
  else if (alt.num === 2) value = { kind: 'text', text: readLatin1(buf, alt) };
  else throw new BerError('ETSI_ERR_UNEXPECTED_TAG', `unknown iP-value [${alt.num}]`, alt.offset);
  const out: IpAddress = { type, value };
  const as = m.get(3);
  if (as) out.assignment = readUint(buf, as, 255);
  const pl = m.get(4);
  if (pl) out.iPv6PrefixLength = readUint(buf, pl, 255);
  const sm = m.get(5);
  if (sm) out.iPv4SubnetMask = readOctets(buf, sm);
  const nat = m.get(6);
  if (nat) out.natTranslated = readBool(buf, nat);
  return out;
}
