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
