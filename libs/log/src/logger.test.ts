import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogFields, REDACTED } from './logger.ts';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  };
}

describe('createLogger', () => {
  it('writes JSON lines with the allowed operational fields', () => {
    const { stream, lines } = capture();
    const log = createLogger({ service: 'test', destination: stream });
    log.child({ component: 'delivery', tenant: 'acme' }).info({ lemf: 'rome', records: 3 }, 'sent');
    const [line] = lines();
    expect(line).toMatchObject({
      level: 'info',
      service: 'test',
      component: 'delivery',
      tenant: 'acme',
      lemf: 'rome',
      records: 3,
      msg: 'sent',
    });
  });

  it('redacts any field that is not on the allow-list, in calls and in child bindings', () => {
    const { stream, lines } = capture();
    const log = createLogger({ service: 'test', destination: stream });
    const leaky = { msisdn: '+390612345678', tenant: 'acme' } as unknown as LogFields;
    log.info(leaky, 'matched');
    log.child({ email: 'target@example.com' } as unknown as LogFields).warn({}, 'x');
    log.info({ reason: { sip: 'INVITE sip:target@example.com' } } as unknown as LogFields, 'nested');
    const text = lines()
      .map((l) => JSON.stringify(l))
      .join('\n');
    expect(text).not.toContain('390612345678');
    expect(text).not.toContain('target@example.com');
    expect(lines()[0]).toMatchObject({ msisdn: REDACTED, tenant: 'acme' });
    expect(lines()[1]).toMatchObject({ email: REDACTED });
    expect(lines()[2]).toMatchObject({ reason: REDACTED });
  });

  it('logs an error by class, code and stack, and drops messages of errors that are not ours', () => {
    const { stream, lines } = capture();
    const log = createLogger({ service: 'test', destination: stream });
    log.error({ err: new SyntaxError('Unexpected token in "sip:target@example.com"') }, 'parse failed');
    const ours = Object.assign(new Error('LEMF rome refused the connection'), {
      code: 'DLV_ERR_CONNECT',
      retriable: true,
    });
    log.error({ err: ours }, 'delivery failed');
    const [a, b] = lines();
    expect(JSON.stringify(a)).not.toContain('target@example.com');
    expect(a?.err).toMatchObject({ type: 'SyntaxError' });
    expect(b?.err).toMatchObject({
      code: 'DLV_ERR_CONNECT',
      retriable: true,
      message: 'LEMF rome refused the connection',
    });
  });
});

describe('createLogger: identifiers in every position', () => {
  const SIP = 'sip:alice.target@example.com';
  const PHONE = '+390612345678';
  // Untyped on purpose: plain JavaScript and casts call the logger in these shapes too.
  type AnyLog = Record<'info' | 'warn' | 'error' | 'child', (...a: unknown[]) => AnyLog>;
  type Call = (log: AnyLog) => void;
  const cases: [string, Call[]][] = [
    [
      'fields nested in errors (cause, custom properties)',
      [
        (l) => l.error({ err: new Error('outer', { cause: new Error(`bad ${SIP} ${PHONE}`) }) }, 'x'),
        (l) => l.error({ err: new Error('outer', { cause: Object.assign(new Error('in'), { code: SIP }) }) }, 'x'),
        (l) => l.error({ err: Object.assign(new Error('x'), { code: `${SIP} ${PHONE}`, msisdn: PHONE }) }, 'x'),
        (l) => l.error({ err: Object.assign(new Error('x'), { name: `${SIP} ${PHONE}` }) }, 'x'),
        (l) => l.child({ err: new Error('x', { cause: new Error(SIP) }) }).info({}, 'y'),
      ],
    ],
    [
      'arrays',
      [
        (l) => l.info({ records: [SIP, PHONE], err: [SIP, PHONE] }, 'x'),
        (l) => l.info({}, [SIP, PHONE]),
        (l) => l.info([SIP, PHONE]),
      ],
    ],
    [
      'objects passed as messages',
      [
        (l) => l.info({ party: { uri: SIP }, msisdn: PHONE }),
        (l) => l.info('matched', { party: SIP, msisdn: PHONE }),
        (l) => l.info({}, { party: SIP, msisdn: PHONE }),
      ],
    ],
    [
      'error messages',
      [
        (l) => l.error({ err: new TypeError(`bad input\n${SIP} ${PHONE}`) }, 'x'),
        (l) => l.error({ err: Object.assign(new Error(`no route for ${SIP} ${PHONE}`), { code: 'ENC_ERR_X' }) }, 'x'),
        (l) => l.error(Object.assign(new Error(`${SIP} ${PHONE}`), { msisdn: PHONE })),
        (l) => l.error({ err: new Error(`${SIP} ${PHONE}`) }),
      ],
    ],
    [
      'free text: messages and reasons',
      [
        (l) => l.warn(`no warrant for ${SIP} ${PHONE}`),
        (l) => l.warn({ code: 'TGM_ERR_X' }, `no warrant for ${SIP}, ${PHONE}`),
        (l) => l.warn({ reason: `refused ${SIP} ${PHONE}` }, 'x'),
      ],
    ],
  ];

  it.each(cases)('keeps them out of the line: %s', (_name, calls) => {
    const { stream, lines } = capture();
    const log = createLogger({ service: 'test', destination: stream }) as unknown as AnyLog;
    for (const call of calls) call(log);
    expect(lines()).toHaveLength(calls.length);
    const text = JSON.stringify(lines());
    expect(text).not.toContain('alice.target');
    expect(text).not.toContain('12345678');
    expect(text).not.toContain('example.com');
  });

  it('keeps what operators need: class, codes, cause chain, loopback addresses', () => {
    const { stream, lines } = capture();
    const log = createLogger({ service: 'test', destination: stream });
    const cause = Object.assign(new Error('socket'), { code: 'ECONNREFUSED' });
    log.error({ err: Object.assign(new Error('LEMF rome refused', { cause }), { code: 'DLV_ERR_CONNECT' }) }, 'down');
    log.info({ reason: 'listening on 127.0.0.1:5060 and [::1]:5061' }, 'up 3.9.1');
    const [a, b] = lines();
    expect(a?.err).toMatchObject({
      code: 'DLV_ERR_CONNECT',
      message: 'LEMF rome refused',
      cause: { type: 'Error', code: 'ECONNREFUSED' },
    });
    expect(b).toMatchObject({ reason: 'listening on 127.0.0.1:5060 and [::1]:5061', msg: 'up 3.9.1' });
  });
});
