// The media endpoints an SDP body (RFC 4566, offer/answer RFC 3264) announces: where its sender
// wants to receive RTP, RTCP and UDPTL. Only what tapping needs is read; anything else is skipped.
import { parseIpAddress } from '@li/identifiers';
import { formatIpv6 } from '../capture/packet.ts';

export type MediaKind = 'rtp' | 'rtcp' | 'udptl';

export interface SdpMedia {
  /** Position of the m= line: an answer's m-lines pair with the offer's by position (RFC 3264 §6). */
  index: number;
  /** audio, video, image (T.38), ... */
  media: string;
  proto: string;
  /** 0: the stream is refused or removed. */
  port: number;
  /** The address as the capture writes it (addressKey), null when unknown or the RFC 2543 hold address 0.0.0.0. */
  address: string | null;
  /** Where RTCP is received: a=rtcp, else port+1; null with rtcp-mux or for UDPTL. */
  rtcpPort: number | null;
  srtp: boolean;
  kind: 'rtp' | 'udptl' | 'other';
  direction: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
}

const DIRECTIONS = new Set(['sendrecv', 'sendonly', 'recvonly', 'inactive']);

/**
 * An address in the text form the capture writes (dotted IPv4, RFC 5952 IPv6), so the SDP's
 * spelling and the packets' compare equal with no parsing per packet. Null for no address, and
 * for the unspecified address (0.0.0.0 or ::: RFC 2543 hold).
 */
export function addressKey(text: string): string | null {
  const a = parseIpAddress(text);
  if (!a || a.bytes.every((b) => b === 0)) return null;
  const b = Buffer.from(a.bytes);
  return a.family === 4 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : formatIpv6(b, 0);
}

function connectionAddress(value: string): string | null {
  // c=<nettype> <addrtype> <address>[/ttl[/n]]
  const parts = value.trim().split(/\s+/);
  if (parts.length < 3 || parts[0] !== 'IN') return null;
  const addr = (parts[2] as string).split('/')[0] as string;
  return addressKey(addr);
}

/** The m-lines of an SDP body; [] when the body is no SDP. Never throws. */
export function parseSdp(body: string): SdpMedia[] {
  const out: SdpMedia[] = [];
  let sessionAddress: string | null = null;
  let sessionDirection: SdpMedia['direction'] = 'sendrecv';
  let current: (SdpMedia & { ownAddress: boolean; mux: boolean; ownDirection: boolean }) | null = null;
  const finish = () => {
    if (!current) return;
    const { ownAddress, mux, ownDirection, ...m } = current;
    if (!ownAddress) m.address = sessionAddress;
    if (!ownDirection) m.direction = sessionDirection;
    if (mux || m.kind !== 'rtp') m.rtcpPort = null;
    out.push(m);
  };
  for (const raw of body.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length < 2 || line[1] !== '=') continue;
    const type = line[0];
    const value = line.slice(2);
    if (type === 'm') {
      finish();
      const [media = '', portText = '', proto = ''] = value.trim().split(/\s+/);
      const port = Number((portText.split('/')[0] as string) || Number.NaN);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        current = null;
        continue;
      }
      const p = proto.toUpperCase();
      const kind = p.includes('RTP') ? 'rtp' : p.includes('UDPTL') ? 'udptl' : 'other';
      current = {
        index: out.length,
        media: media.toLowerCase(),
        proto,
        port,
        address: null,
        rtcpPort: port > 0 && port < 65535 ? port + 1 : null,
        srtp: p.includes('SAVP'),
        kind,
        direction: 'sendrecv',
        ownAddress: false,
        mux: false,
        ownDirection: false,
      };
      continue;
    }
    if (type === 'c') {
      const a = connectionAddress(value);
      if (current) {
        current.address = a;
        current.ownAddress = true;
      } else sessionAddress = a;
      continue;
    }
    if (type !== 'a') continue;
    const colon = value.indexOf(':');
    const name = (colon < 0 ? value : value.slice(0, colon)).trim().toLowerCase();
    if (DIRECTIONS.has(name)) {
      if (current) {
        current.direction = name as SdpMedia['direction'];
        current.ownDirection = true;
      } else sessionDirection = name as SdpMedia['direction'];
    } else if (current && name === 'rtcp-mux') {
      current.mux = true;
    } else if (current && name === 'rtcp' && colon >= 0) {
      // a=rtcp:<port> [IN IP4 <address>] (RFC 3605); another address is not followed.
      const port = Number(
        value
          .slice(colon + 1)
          .trim()
          .split(/\s+/)[0],
      );
      if (Number.isInteger(port) && port > 0 && port <= 65535) current.rtcpPort = port;
    }
  }
  finish();
  return out;
}
