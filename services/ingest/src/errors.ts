// Every ING_ERR_* code ingest reports. Most reach only the DLQ (li.dlq.code header) and the
// li_ingest_problems_total metric; the mail-events API also answers with its codes. Input that
// cannot be decoded does not decode better later, so nearly every code is not retriable.
import { defineErrors } from '@li/core';

export const ING = defineErrors('ING', {
  // Capture files and live capture (pcap/pcapng reader, tcpdump).
  ING_ERR_PCAP_FORMAT: { message: 'not a usable pcap or pcapng capture', retriable: false },
  ING_ERR_PCAP_TRUNCATED: { message: 'capture ends early or cannot be read', retriable: false },
  ING_ERR_PCAP_TOO_LARGE: { message: 'capture record or block over the size bound', retriable: false },
  ING_ERR_TCPDUMP: { message: 'tcpdump failed to start or exited with an error', retriable: false },
  // Link, IP, UDP and TCP headers of captured packets.
  ING_ERR_LINK_SHORT: { message: 'link-layer header truncated', retriable: false },
  ING_ERR_LINK_TYPE: { message: 'unsupported link type', retriable: false },
  ING_ERR_IP_SHORT: { message: 'IP packet truncated', retriable: false },
  ING_ERR_IP_HEADER: { message: 'malformed IP header', retriable: false },
  ING_ERR_IP_EXT: { message: 'too many IPv6 extension headers', retriable: false },
  ING_ERR_IP_VERSION: { message: 'unknown IP version', retriable: false },
  // IP fragments: flagged (DLQ record, metric) while what could be reassembled is still decoded.
  ING_ERR_FRAG_OVERLAP: { message: 'IP fragments overlap with the same octets', retriable: false },
  ING_ERR_FRAG_CONFLICT: { message: 'IP fragments overlap with different octets (the first kept)', retriable: false },
  ING_ERR_FRAG_BEYOND_END: { message: 'an IP fragment runs past the end of its datagram', retriable: false },
  ING_ERR_FRAG_TIMEOUT: { message: 'an IP datagram stayed incomplete until its timeout', retriable: false },
  ING_ERR_UDP_SHORT: { message: 'UDP header truncated', retriable: false },
  ING_ERR_UDP_HEADER: { message: 'malformed UDP header', retriable: false },
  ING_ERR_TCP_SHORT: { message: 'TCP header truncated', retriable: false },
  ING_ERR_TCP_HEADER: { message: 'malformed TCP header', retriable: false },
  // Capture pipeline and TCP reassembly.
  ING_ERR_CAPTURE_INTERNAL: { message: 'capture failed on a packet (a bug)', retriable: false },
  ING_ERR_FLOW_MEMORY: { message: 'a TCP flow went over its memory bound and was dropped', retriable: false },
  ING_ERR_CAPTURE_MEMORY: {
    message: 'all TCP flows together went over their memory bound; the largest was dropped',
    retriable: false,
  },
  ING_ERR_DECODER_THREW: {
    message: 'a protocol decoder threw (a bug); its flow is no longer decoded',
    retriable: false,
  },
  // Text protocol decoders (SMTP, POP3, IMAP, MSNP).
  ING_ERR_LINE_TOO_LONG: { message: 'protocol line over the length bound, skipped', retriable: false },
  ING_ERR_STREAM_GAP: { message: 'octets of a stream were not captured', retriable: false },
  ING_ERR_PROTOCOL: { message: 'protocol violation', retriable: false },
  ING_ERR_DECODER: { message: 'decoder failed on a stream', retriable: false },
  // SIP (listener, stream and datagram decoding).
  ING_ERR_SIP_START_LINE: { message: 'not a SIP start line', retriable: false },
  ING_ERR_SIP_HEADERS: { message: 'too many SIP headers', retriable: false },
  ING_ERR_SIP_TOO_LARGE: { message: 'SIP message over the size bound', retriable: false },
  ING_ERR_SIP_CONTENT_LENGTH: { message: 'unusable SIP Content-Length on a stream', retriable: false },
  ING_ERR_SIP_TRUNCATED: { message: 'stream ended inside a SIP message', retriable: false },
  ING_ERR_SIP_GAP: { message: 'a hole between SIP messages on a stream', retriable: false },
  // Flagged on a SIP-over-UDP event (attribute `problems`) that is still delivered.
  ING_ERR_SIP_CL_BEYOND_DATAGRAM: { message: 'SIP Content-Length larger than the datagram', retriable: false },
  ING_ERR_SIP_CL_INVALID: { message: 'SIP Content-Length negative or not a number', retriable: false },
  ING_ERR_SIP_CL_REPEATED: { message: 'SIP Content-Length given more than once', retriable: false },
  ING_ERR_SIP_NO_BLANK_LINE: { message: 'no blank line after the SIP headers', retriable: false },
  ING_ERR_SIP_VERSION: { message: 'SIP version other than 2.0', retriable: false },
  ING_ERR_SIP_CALL_ID_MISSING: { message: 'SIP message without Call-ID', retriable: false },
  ING_ERR_SIP_CALL_ID_REPEATED: { message: 'SIP Call-ID given more than once', retriable: false },
  ING_ERR_SIP_SOCKET: { message: 'SIP listener socket error', retriable: true },
  // X2/X3 (ETSI TS 103 221-2): PDUs, their mapping to events, and the receiver.
  ING_ERR_X2X3_SHORT: { message: 'X2/X3 PDU shorter than its header', retriable: false },
  ING_ERR_X2X3_VERSION: { message: 'unsupported X2/X3 version', retriable: false },
  ING_ERR_X2X3_HEADER_LENGTH: { message: 'unusable X2/X3 header length', retriable: false },
  ING_ERR_X2X3_PDU_TYPE: { message: 'unknown X2/X3 PDU type', retriable: false },
  ING_ERR_X2X3_PAYLOAD_FORMAT: { message: 'X2/X3 payload format unknown or not allowed', retriable: false },
  ING_ERR_X2X3_PAYLOAD_DIRECTION: { message: 'unknown X2/X3 payload direction', retriable: false },
  ING_ERR_X2X3_ATTRIBUTE: { message: 'malformed X2/X3 conditional attribute', retriable: false },
  ING_ERR_X2X3_KEEPALIVE: { message: 'X2/X3 keepalive with a payload', retriable: false },
  ING_ERR_X2X3_TOO_LARGE: { message: 'X2/X3 PDU over the size bound; connection closed', retriable: false },
  ING_ERR_X2X3_UNKNOWN_XID: { message: 'X2/X3 XID names no active task', retriable: false },
  ING_ERR_X2X3_NOT_PRODUCT: { message: 'X2/X3 PDU carries no event', retriable: false },
  ING_ERR_X2X3_IDLE: { message: 'X2/X3 connection idle too long; closed', retriable: true },
  ING_ERR_X2X3_SOCKET: { message: 'X2/X3 connection error', retriable: true },
  ING_ERR_X2X3_SLOW_READER: { message: 'X2/X3 peer leaves keepalive answers unread; closed', retriable: false },
  ING_ERR_X2X3_TLS_NO_CLIENT_CA: {
    message: 'X2/X3 TLS without a client CA would accept any client',
    retriable: false,
  },
  // Mail-server events API and the publisher.
  ING_ERR_BAD_MAIL_EVENT: { message: 'mail-server event refused', retriable: false, status: 400 },
  ING_ERR_UNAUTHENTICATED: { message: 'no known credential', retriable: false, status: 401 },
  ING_ERR_FORBIDDEN: {
    message: "not a mailserver credential of this ingest's tenant",
    retriable: false,
    status: 403,
  },
  ING_ERR_SCHEMA: { message: 'decoded event refused by its schema (a bug)', retriable: false },
  // The disk spool that holds records while Kafka is away.
  ING_ERR_SPOOL_FULL: {
    message: 'Kafka is unavailable and the spool is nearly full; retry later',
    retriable: true,
    status: 503,
  },
  ING_ERR_SPOOL_IO: {
    message: 'the spool could not write or sync records (disk full or I/O error); they were not kept',
    retriable: true,
    status: 503,
  },
  ING_ERR_SPOOL_CORRUPT: { message: 'a damaged spool record was skipped (torn write or corruption)', retriable: false },
});

export type IngestErrorCode = (typeof ING.codes)[number];
