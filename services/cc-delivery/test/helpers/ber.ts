// Test fixtures: real PS-PDUs and HI2 IRIs made from the golden files in ../fixtures
// with LIID, CIN and sequence number rewritten (a tiny TLV walker; production BER lives in libs/etsi).
import { readFileSync } from 'node:fs';

const EXAMPLES = new URL('../fixtures/', import.meta.url);
export const golden = (name: string): Buffer => readFileSync(new URL(name, EXAMPLES));

interface Tlv {
  tag: Buffer;
  constructed: boolean;
  value: Buffer;
  children: Tlv[] | null;
}

function parse(buf: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let i = 0;
  while (i < buf.length) {
    const t0 = i;
    if ((buf[i]! & 0x1f) === 0x1f) {
      i++;
      while (buf[i]! & 0x80) i++;
    }
    i++;
    const tag = buf.subarray(t0, i);
    let len = buf[i++]!;
    if (len & 0x80) {
      const n = len & 0x7f;
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + buf[i++]!;
    }
    const value = buf.subarray(i, i + len);
    i += len;
    const constructed = (tag[0]! & 0x20) !== 0;
    out.push({ tag, constructed, value, children: constructed ? parse(value) : null });
  }
  return out;
}

function lenBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function encode(list: Tlv[]): Buffer {
  return Buffer.concat(
    list.map((t) => {
      const v = t.children ? encode(t.children) : t.value;
      return Buffer.concat([t.tag, lenBytes(v.length), v]);
    }),
  );
}

/** Unsigned INTEGER content octets, minimal, with a leading 0 when the top bit is set. */
function uint(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (bytes.length === 0) bytes.push(0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return Buffer.from(bytes);
}

const find = (list: Tlv[] | null, tag: number) => list?.find((t) => t.tag.length === 1 && t.tag[0] === tag);

/** A PS-PDU (IPIRI or IPCC golden) with its PSHeader LIID, CIN and sequenceNumber replaced. */
export function psPdu(kind: 'iri' | 'cc', liid: string, cin: number, seq: number): Buffer {
  const root = parse(golden(kind === 'iri' ? 'pspdu_ipiri.ber' : 'pspdu_ipcc.ber'));
  const header = find(root[0]!.children, 0xa1)!;
  find(header.children, 0x81)!.value = Buffer.from(liid, 'ascii');
  find(find(header.children, 0xa3)!.children, 0x81)!.value = uint(cin);
  find(header.children, 0x84)!.value = uint(seq);
  return encode(root);
}

/** A TS 101 671 IRI-Begin (golden) with LIID and CIN (ASCII digits, 1..8) replaced. */
export function hi2Iri(liid: string, cin: number): Buffer {
  const root = parse(golden('hi2_iri_begin.ber'));
  const params = root[0]!.children![0]!; // [0] iRIContent → [1] IRI-Begin-record (IRI-Parameters)
  find(params.children, 0x81)!.value = Buffer.from(liid, 'ascii');
  const commId = find(params.children, 0xa2)!;
  find(commId.children, 0x80)!.value = Buffer.from(String(cin).slice(-8), 'ascii');
  return encode(root);
}
