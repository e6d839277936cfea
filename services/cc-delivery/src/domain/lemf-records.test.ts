import { sampleFileSettings } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { lemfRecords, streamOfTopic } from './lemf-records.ts';

const msg = (offset: number, headers: Record<string, string>) => ({
  key: Buffer.from('KEYLIID'),
  value: Buffer.from([offset]),
  offset: String(offset),
  headers,
});

describe('lemfRecords', () => {
  const source = { topic: 'li.acme.hi2', partition: 3, stream: 'HI2' as const };

  it("takes the records naming the LEMF in a format its transport carries, keyed to the wiring's key", () => {
    const { records: out, refused } = lemfRecords(
      { id: 'rome', transport: 'ETSI_TCP', files: null },
      'acme/rome',
      source,
      [
        msg(1, { 'li.lemfs': 'milan,rome', 'li.liid': 'LIID1', 'li.cin': '7', 'li.seq': '2', 'li.format': 'TS102232' }),
        msg(2, { 'li.lemfs': 'milan', 'li.liid': 'LIID1' }),
        msg(3, { 'li.lemfs': 'rome', 'li.liid': 'LIID1', 'li.format': 'TS101671' }),
        msg(4, { 'li.lemfs': 'rome' }),
      ],
    );
    expect(out).toEqual([
      {
        lemfId: 'acme/rome',
        liid: 'LIID1',
        cin: 7,
        seq: 2,
        stream: 'HI2',
        format: 'TS102232',
        bytes: Buffer.from([1]),
        source: { topic: 'li.acme.hi2', partition: 3, offset: 1 },
      },
      {
        lemfId: 'acme/rome',
        liid: 'KEYLIID',
        cin: 0,
        seq: 0,
        stream: 'HI2',
        bytes: Buffer.from([4]),
        source: { topic: 'li.acme.hi2', partition: 3, offset: 4 },
      },
    ]);
    expect(refused).toEqual([]);
  });

  it('refuses a record with a malformed header, naming the header and not its value', () => {
    const bad = msg(5, { 'li.lemfs': 'rome', 'li.liid': 'SECRETLIID', 'li.cin': '7', 'li.seq': 'x' });
    const noLemfs = msg(6, { 'li.liid': 'SECRETLIID' });
    const ok = msg(7, { 'li.lemfs': 'rome', 'li.liid': 'SECRETLIID', 'li.cin': '7', 'li.seq': '3' });
    const { records, refused } = lemfRecords({ id: 'rome', transport: 'ETSI_TCP', files: null }, 'acme/rome', source, [
      bad,
      noLemfs,
      ok,
    ]);
    expect(records.map((r) => r.seq)).toEqual([3]);
    expect(refused).toEqual([
      { message: bad, code: 'BUS_ERR_HEADER', reason: 'header li.seq: expected a non-negative integer' },
      { message: noLemfs, code: 'BUS_ERR_HEADER', reason: 'header li.lemfs missing' },
    ]);
  });

  it('gives a file LEMF only the streams and the one format its files hold', () => {
    const hi3 = { ...source, topic: 'li.acme.hi3', stream: 'HI3' as const };
    const iri = (format: string) => msg(1, { 'li.lemfs': 'rome', 'li.liid': 'L', 'li.format': format });
    const take = (files: Parameters<typeof sampleFileSettings>[0], src: typeof source | typeof hi3, format: string) =>
      lemfRecords({ id: 'rome', transport: 'SFTP', files: sampleFileSettings(files) }, 'acme/rome', src, [iri(format)])
        .records.length;
    // an Italian-profile IRI arrives in both encodings: a TS 101 671 file LEMF takes one of them
    expect(take({ format: 'TS101671' }, source, 'TS101671')).toBe(1);
    expect(take({ format: 'TS101671' }, source, 'TS102232')).toBe(0);
    expect(take({ format: 'TS102232' }, source, 'TS101671')).toBe(0);
    // IRI only: no CC; CC only: no IRI
    expect(take({ streams: ['HI2'] }, hi3, 'TS102232')).toBe(0);
    expect(take({ streams: ['HI2'] }, source, 'TS102232')).toBe(1);
    expect(take({ streams: ['HI3'] }, source, 'TS102232')).toBe(0);
    expect(take({ streams: ['HI3'] }, hi3, 'TS102232')).toBe(1);
  });

  it('gives an e-mail LEMF no HI2 record', () => {
    expect(
      lemfRecords({ id: 'rome', transport: 'EMAIL', files: null }, 'acme/rome', source, [
        msg(1, { 'li.lemfs': 'rome' }),
      ]),
    ).toEqual({ records: [], refused: [] });
  });
});

describe('streamOfTopic', () => {
  it("reads the stream of a LEMF's queue topics only", () => {
    const topics = ['li.acme.lemf.a.hi2', 'li.acme.lemf.hi2.hi3', 'li.acme.lemf.a.reports', 'li.acme.lemf.a.lemfs'];
    expect([...topics, 'li.acme.hi2', 'li.acme.lemfs'].map(streamOfTopic)).toEqual([
      'HI2',
      'HI3',
      'REPORT',
      undefined,
      undefined,
      undefined,
    ]);
  });
});
