// SIP messages used by unit tests, the throughput measurement and fixtures (not copied from
// any corpus; written against RFC 3261 §7, §20 and RFC 3966).

export function invite(
  opts: { callId?: string; from?: string; to?: string; ruri?: string; body?: string } = {},
): Buffer {
  const body =
    opts.body ??
    'v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  const ruri = opts.ruri ?? 'sip:+390612345678@ims.example.net;user=phone';
  return Buffer.from(
    `INVITE ${ruri} SIP/2.0\r\n` +
      'Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-1,SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-0\r\n' +
      'v: SIP/2.0/UDP 192.0.2.8;branch=z9hG4bK-00\r\n' +
      'Max-Forwards: 70\r\n' +
      `f: ${opts.from ?? '"Alice, A." <sip:alice@Example.COM:5070>;tag=a1'}\r\n` +
      `t: ${opts.to ?? '<tel:+39-06-1234-5678>'}\r\n` +
      `i: ${opts.callId ?? 'call-1@192.0.2.10'}\r\n` +
      'CSeq: 1 INVITE\r\n' +
      'P-Asserted-Identity: <sip:+441632960001@operator.example;user=phone>,\r\n' +
      '  <tel:+441632960001>\r\n' +
      'm: <sip:alice@192.0.2.10:5060;transport=tcp>\r\n' +
      'History-Info: <sip:bob@example.net>;index=1\r\n' +
      'Referred-By: <sip:carol@example.org>\r\n' +
      'Privacy: id\r\n' +
      'c: application/sdp\r\n' +
      `l: ${Buffer.byteLength(body)}\r\n` +
      '\r\n' +
      body,
  );
}

export function response(status: number, reason: string, callId = 'call-1@192.0.2.10', method = 'INVITE'): Buffer {
  return Buffer.from(
    `SIP/2.0 ${status} ${reason}\r\n` +
      'Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-1\r\n' +
      'From: "Alice, A." <sip:alice@example.com>;tag=a1\r\n' +
      'To: <tel:+39-06-1234-5678>;tag=b2\r\n' +
      `Call-ID: ${callId}\r\n` +
      `CSeq: 1 ${method}\r\n` +
      'Content-Length: 0\r\n' +
      '\r\n',
  );
}

export function request(method: string, extra = '', callId = 'call-1@192.0.2.10'): Buffer {
  return Buffer.from(
    `${method} sip:bob@example.net SIP/2.0\r\n` +
      'Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK-2\r\n' +
      'From: <sip:alice@example.com>;tag=a1\r\n' +
      'To: <sip:bob@example.net>;tag=b2\r\n' +
      `Call-ID: ${callId}\r\n` +
      `CSeq: 2 ${method}\r\n` +
      extra +
      'Content-Length: 0\r\n' +
      '\r\n',
  );
}
