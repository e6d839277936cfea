// A tiny reader for asn1c's XER output, enough to compare decoded fields in tests.
// Mapping: a leaf element -> its text; an element whose only child is empty (an ENUMERATED
// value or a NULL alternative) -> that child's name; otherwise an object keyed by child name,
// with an array when a name repeats (SEQUENCE OF).
export type XerValue = string | XerObject | XerValue[];
export interface XerObject {
  [name: string]: XerValue;
}

interface Node {
  name: string;
  children: Node[];
  text: string;
  empty: boolean;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(Number.parseInt(e.slice(1), 10));
    return ENTITIES[e] ?? m;
  });
}

function parse(xml: string): Node[] {
  const re = /<(\/?)([A-Za-z0-9_.-]+)\s*(\/?)>|([^<]+)/g;
  const root: Node = { name: '#root', children: [], text: '', empty: true };
  const stack: Node[] = [root];
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const top = stack[stack.length - 1]!;
    if (m[4] !== undefined) {
      top.text += m[4];
    } else if (m[1] === '/') {
      stack.pop();
    } else {
      const node: Node = { name: m[2]!, children: [], text: '', empty: true };
      top.children.push(node);
      top.empty = false;
      if (m[3] !== '/') stack.push(node);
    }
  }
  if (root.children.length === 0) throw new Error('no XER element');
  return root.children;
}

function toValue(n: Node): XerValue {
  if (n.children.length === 0) return xmlUnescape(n.text.trim());
  const only = n.children[0]!;
  if (n.children.length === 1 && only.children.length === 0 && only.text.trim() === '') return only.name;
  const out: XerObject = {};
  for (const c of n.children) {
    const v = toValue(c);
    const prev = out[c.name];
    if (prev === undefined) out[c.name] = v;
    else if (Array.isArray(prev) && (prev as unknown as { __many?: boolean }).__many) prev.push(v);
    else {
      const arr = [prev, v] as XerValue[] & { __many?: boolean };
      Object.defineProperty(arr, '__many', { value: true });
      out[c.name] = arr;
    }
  }
  return out;
}

/** Parses one XER document: returns [rootName, value]. */
export function parseXer(xml: string): [string, XerValue] {
  const n = parse(xml)[0]!;
  return [n.name, toValue(n)];
}

/** Parses several concatenated XER documents (asn1c prints one per decoded record). */
export function parseXerAll(xml: string): [string, XerValue][] {
  return parse(xml).map((n) => [n.name, toValue(n)]);
}

/** Walks a path of names through nested objects; throws with the path when a step is missing. */
export function at(v: XerValue, ...path: string[]): XerValue {
  let cur: XerValue = v;
  for (const p of path) {
    if (typeof cur !== 'object' || Array.isArray(cur) || !(p in cur)) {
      throw new Error(`XER path ${path.join('/')} missing at ${p}: ${JSON.stringify(cur).slice(0, 200)}`);
    }
    cur = cur[p]!;
  }
  return cur;
}

export function str(v: XerValue, ...path: string[]): string {
  const x = at(v, ...path);
  if (typeof x !== 'string') throw new Error(`XER path ${path.join('/')} is not a leaf`);
  return x;
}

export function list(v: XerValue, ...path: string[]): XerValue[] {
  const x = at(v, ...path);
  return Array.isArray(x) ? x : [x];
}

/** asn1c prints OCTET STRING as spaced upper-case hex, wrapped on long values. */
export function hexOf(v: string): string {
  return v.replace(/\s+/g, '').toLowerCase();
}
