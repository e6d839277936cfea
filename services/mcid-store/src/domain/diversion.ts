// Non-3GPP interworking (seed 003 §2.2): an INVITE from an application server that marks
// diversions with Diversion headers (RFC 5806) instead of History-Info (RFC 7044) gets its
// diversions rewritten as History-Info before the communication details are captured, along
// the lines of RFC 7544: one entry per diversion in the order they happened, the RFC 4458
// `cause` on the entry the call was retargeted to, the Reason on the entry it left.
import { headerParams, splitHeaderList, uriOf } from './sip.ts';

/** RFC 5806 diversion reasons → the SIP response code RFC 4458 / RFC 7544 use for them. */
const CAUSE_OF_REASON: Record<string, number> = {
  unknown: 404,
  'user-busy': 486,
  'no-answer': 408,
  unavailable: 503,
  unconditional: 302,
  deflection: 480,
  'time-of-day': 404,
  'do-not-disturb': 404,
  'follow-me': 404,
  'out-of-service': 503,
  away: 404,
};

interface DiversionEntry {
  /** The URI of the party that diverted the call. */
  uri: string;
  cause: number;
  /** RFC 5806 counter: how many diversions this entry stands for (default 1). */
  counter: number;
  /** privacy=full / name / uri asks to hide the diverting party: RFC 7044 Privacy=history. */
  hidden: boolean;
}

/** Diversion header values (one per header line), top-most = most recent diversion. */
export function parseDiversion(values: readonly string[]): DiversionEntry[] {
  const out: DiversionEntry[] = [];
  for (const value of values.flatMap(splitHeaderList)) {
    const uri = uriOf(value);
    if (!/^(sips?|tel):/i.test(uri)) continue; // not a URI: nothing to map
    const params = headerParams(value);
    const reason = (params.get('reason') ?? 'unknown').toLowerCase();
    const counter = Number(params.get('counter') ?? '1');
    const privacy = (params.get('privacy') ?? 'off').toLowerCase();
    out.push({
      uri,
      cause: CAUSE_OF_REASON[reason] ?? 404,
      // A counter above 1 means diversions whose parties are not listed; cap a hostile value.
      counter: Number.isInteger(counter) && counter >= 1 ? Math.min(counter, 16) : 1,
      hidden: privacy === 'full' || privacy === 'name' || privacy === 'uri',
    });
  }
  return out;
}

/** Adds a URI parameter before any URI headers (`?…`). */
function withUriParam(uri: string, param: string): string {
  const q = uri.indexOf('?');
  return q < 0 ? `${uri};${param}` : `${uri.slice(0, q)};${param}${uri.slice(q)}`;
}

/** Adds an escaped URI header (`?Reason=…` / `&Privacy=…`). */
function withUriHeader(uri: string, name: string, value: string): string {
  return `${uri}${uri.includes('?') ? '&' : '?'}${name}=${encodeURIComponent(value)}`;
}

/**
 * History-Info entries (one per string, oldest first) for the diversions listed by `diversion`
 * and the current Request-URI. Returns [] when there is no usable Diversion entry.
 * Indexes nest (1, 1.1, 1.1.1, …) and each retargeted entry names its parent with `mp`, as
 * a diversion changes the target user. A counter of n repeats the diverting entry n times:
 * the parties in between are unknown, but the number of diversions stays right.
 */
export function historyInfoFromDiversion(diversion: readonly string[], requestUri: string): string[] {
  const chronological = parseDiversion(diversion).reverse();
  if (chronological.length === 0) return [];
  const hops = chronological.flatMap((d) => Array.from({ length: d.counter }, () => d));
  const entries: string[] = [];
  let index = '1';
  let incomingCause: number | null = null;
  for (const hop of hops) {
    let uri = hop.uri;
    if (incomingCause !== null) uri = withUriParam(uri, `cause=${incomingCause}`);
    uri = withUriHeader(uri, 'Reason', `SIP;cause=${hop.cause}`);
    if (hop.hidden) uri = withUriHeader(uri, 'Privacy', 'history');
    entries.push(entryText(uri, index, incomingCause === null ? null : parentOf(index)));
    incomingCause = hop.cause;
    index = `${index}.1`;
  }
  // The Request-URI is an addr-spec whose parameters (user=phone) belong to the URI.
  const target = withUriParam(
    requestUri.includes('<') ? uriOf(requestUri) : requestUri.trim(),
    `cause=${incomingCause}`,
  );
  entries.push(entryText(target, index, parentOf(index)));
  return entries;
}

function parentOf(index: string): string {
  return index.slice(0, index.lastIndexOf('.'));
}

function entryText(uri: string, index: string, mappedFrom: string | null): string {
  return `<${uri}>;index=${index}${mappedFrom ? `;mp=${mappedFrom}` : ''}`;
}
