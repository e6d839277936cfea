// Maps a SIP message to a SIGNALS event. Attributes carry the headers MCID reports (seed 003:
// Request-URI, To, P-Asserted-Identity, From, Contact, History-Info, Referred-By, Privacy)
// verbatim, so mcid-store and the IRI encoder need not re-parse the message.
import { parseIpAddress } from '@li/identifiers';
import type { NetworkInfo, Party, PartyRole } from '@li/schemas';
import type { DecodedEvent } from '../stream.ts';
import { header, headerAll, type SipMessage, splitValues } from './message.ts';
import { paramValue, parseNameAddr, uriIdentities } from './uri.ts';

// A method is a token of any length (RFC 3261 §25.1); the bound only keeps the action name sane.
const METHOD_TOKEN = /^[A-Z0-9\-.!%*_+`'~]{1,128}$/;

function addParties(parties: Party[], role: PartyRole, uri: string | undefined): void {
  if (!uri) return;
  for (const id of uriIdentities(uri)) {
    if (!parties.some((p) => p.role === role && p.type === id.type && p.value === id.value)) {
      parties.push({ role, type: id.type, value: id.value });
    }
  }
}

function addressUri(value: string | undefined): string | undefined {
  return value === undefined ? undefined : parseNameAddr(value)?.uri;
}

function joined(m: SipMessage, name: string): string | undefined {
  const all = headerAll(m, name);
  return all.length === 0 ? undefined : all.join(', ');
}

/** The attributes of a SIP message: method or status, Call-ID, CSeq and the headers MCID reports. */
export function sipAttributes(m: SipMessage): { action: string; attributes: Record<string, string> } {
  const attributes: Record<string, string> = {};
  const set = (k: string, v: string | undefined) => {
    if (v !== undefined) attributes[k] = v;
  };
  const from = header(m, 'from');
  const to = header(m, 'to');
  const cseq = header(m, 'cseq');
  const cseqMethod = cseq?.trim().split(/\s+/)[1]?.toUpperCase();
  let action: string;
  if (m.start.kind === 'request') {
    const method = METHOD_TOKEN.test(m.start.method) ? m.start.method : 'UNKNOWN';
    // A token may hold '.', which would add a segment to the action name (sip.*): keep it one.
    action = `sip.${method.toLowerCase().replaceAll('.', '_')}`;
    set('method', method);
    set('request-uri', m.start.uri);
    // An INVITE inside a dialog carries the To tag the first answer set (§14).
    if (method === 'INVITE' && to !== undefined) {
      const tag = paramValue(parseNameAddr(to)?.params ?? '', 'tag');
      if (tag) set('reinvite', 'true');
    }
    if (method === 'REGISTER') {
      const contacts = headerAll(m, 'contact').flatMap(splitValues);
      const contactExpires = contacts
        .map((c) => paramValue(parseNameAddr(c)?.params ?? '', 'expires'))
        .find((x) => x !== undefined);
      const expires = contactExpires ?? header(m, 'expires');
      if (expires !== undefined && /^\d{1,10}$/.test(expires.trim())) set('expires', expires.trim());
    }
  } else {
    action = 'sip.response';
    set('status', String(m.start.status));
    set('reason', m.start.reason);
    if (cseqMethod && METHOD_TOKEN.test(cseqMethod)) set('method', cseqMethod);
  }
  set('to', to);
  set('from', from);
  set('pai', joined(m, 'p-asserted-identity'));
  set('contact', joined(m, 'contact'));
  set('history-info', joined(m, 'history-info'));
  set('referred-by', joined(m, 'referred-by'));
  set('privacy', joined(m, 'privacy'));
  set('call-id', header(m, 'call-id'));
  set('cseq', cseq);
  return { action, attributes };
}

export function sipEvent(m: SipMessage, network: NetworkInfo, tsMicros: number): DecodedEvent {
  const { action, attributes } = sipAttributes(m);
  const from = header(m, 'from');
  const to = header(m, 'to');
  const cseqMethod = header(m, 'cseq')?.trim().split(/\s+/)[1]?.toUpperCase();
  const parties: Party[] = [];
  addParties(parties, 'CALLER', addressUri(from));
  for (const v of headerAll(m, 'p-asserted-identity').flatMap(splitValues))
    addParties(parties, 'CALLER', addressUri(v));
  // The identity the caller asks its proxy to assert (RFC 3325 §9.2).
  for (const v of headerAll(m, 'p-preferred-identity').flatMap(splitValues))
    addParties(parties, 'CALLER', addressUri(v));
  // Remote-Party-ID (pre-RFC 3325 networks): party=called names the callee, otherwise the caller.
  for (const v of headerAll(m, 'remote-party-id').flatMap(splitValues)) {
    const party = paramValue(parseNameAddr(v)?.params ?? '', 'party')?.toLowerCase();
    addParties(parties, party === 'called' ? 'CALLEE' : 'CALLER', addressUri(v));
  }
  addParties(parties, 'CALLEE', addressUri(to));
  if (m.start.kind === 'request') addParties(parties, 'CALLEE', m.start.uri);
  // The device's instance ID (RFC 5626 +sip.instance) in a Contact: the sender's in a request and
  // in a REGISTER's answer (the registrar lists the registering device's contacts), else the answerer's.
  const deviceRole: PartyRole = m.start.kind === 'request' || cseqMethod === 'REGISTER' ? 'CALLER' : 'CALLEE';
  for (const c of headerAll(m, 'contact').flatMap(splitValues)) {
    const instance = paramValue(parseNameAddr(c)?.params ?? '', '+sip.instance');
    if (instance && !parties.some((p) => p.type === 'SIP_INSTANCE' && p.value === instance))
      parties.push({ role: deviceRole, type: 'SIP_INSTANCE', value: instance });
  }

  return {
    category: 'SIGNALS',
    action,
    occurredAtMicros: tsMicros,
    protocol: 'SIP',
    communicationId: attributes['call-id'] ?? '',
    parties,
    network,
    attributes,
    content: Buffer.from(m.raw),
    contentType: 'application/sip',
  };
}

/**
 * The login a successful registration is (seed 000's Login report lists SIP among its protocols):
 * a 2xx answer to REGISTER that keeps a binding (a Contact with a non-zero expiry). A challenge
 * (401/407) or refusal is no login: seed 000 reports logging into the System, and a challenge is
 * the normal first step of digest authentication. A de-registration (expiry 0) and a bindings
 * query (no Contact) are no login either. The address is the registering device's: the top Via
 * of the answer as the registrar saw it (received/rport, RFC 3261 §18.2.1, RFC 3581), which holds
 * for a mirror too, else the answer's destination. Null when the message is not such an answer.
 */
export function sipLoginEvent(m: SipMessage, network: NetworkInfo, tsMicros: number): DecodedEvent | null {
  if (m.start.kind !== 'response' || m.start.status < 200 || m.start.status >= 300) return null;
  const cseq = header(m, 'cseq')?.trim().split(/\s+/);
  if (cseq?.[1]?.toUpperCase() !== 'REGISTER') return null;
  const contacts = headerAll(m, 'contact')
    .flatMap(splitValues)
    .filter((c) => c.trim() !== '*');
  if (contacts.length === 0) return null;
  const headerExpires = header(m, 'expires')?.trim();
  const bound = contacts.some((c) => {
    const e = paramValue(parseNameAddr(c)?.params ?? '', 'expires') ?? headerExpires;
    return e === undefined || !/^\d{1,10}$/.test(e) || Number(e) > 0;
  });
  if (!bound) return null;
  const parties: Party[] = [];
  addParties(parties, 'ACCOUNT', addressUri(header(m, 'to')));
  if (parties.length === 0) return null;
  const callId = header(m, 'call-id');
  return {
    category: 'LOGIN',
    action: 'sip.login',
    occurredAtMicros: tsMicros,
    protocol: 'SIP',
    communicationId: callId ?? '',
    parties,
    network: { ...deviceAddress(m, network), dstAddress: network.srcAddress, dstPort: network.srcPort },
    attributes: {
      method: 'REGISTER',
      result: 'success',
      status: String(m.start.status),
      ...(callId ? { 'call-id': callId } : {}),
    },
    content: null,
    contentType: null,
  };
}

const VIA = /^SIP\/2\.0\/([A-Za-z]+)\s+(\[[0-9A-Fa-f:.]+\]|[^\s:;]+)(?::(\d{1,5}))?\s*(.*)$/;

function deviceAddress(m: SipMessage, network: NetworkInfo): Pick<NetworkInfo, 'transport' | 'srcAddress' | 'srcPort'> {
  const fallback = { transport: network.transport, srcAddress: network.dstAddress, srcPort: network.dstPort };
  const top = splitValues(header(m, 'via') ?? '')[0];
  const v = top === undefined ? null : VIA.exec(top.trim());
  if (!v) return fallback;
  const params = v[4] ?? '';
  const host = paramValue(params, 'received') || (v[2] as string).replace(/^\[|\]$/g, '');
  const port = Number(paramValue(params, 'rport') || v[3] || 5060);
  if (parseIpAddress(host) === null || !(port > 0 && port < 65536)) return fallback;
  return { transport: (v[1] as string).toLowerCase(), srcAddress: host, srcPort: port };
}
