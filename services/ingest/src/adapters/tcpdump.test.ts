import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPTURE_BUFFER_KIB, kernelDrops, tcpdumpArgs } from './tcpdump.ts';

const bufferOf = (args: string[]) => args[args.indexOf('-B') + 1];

describe('tcpdumpArgs', () => {
  it('asks for a kernel buffer of 32 MiB by default, not libpcap’s 2 MiB (some 16 loopback packets)', () => {
    const args = tcpdumpArgs({ interface: 'lo' });
    expect(DEFAULT_CAPTURE_BUFFER_KIB).toBe(32768);
    expect(bufferOf(args)).toBe('32768');
    expect(args.slice(0, 2)).toEqual(['-i', 'lo']);
    expect(args).toContain('--immediate-mode');
    expect(args.slice(-2)).toEqual(['-w', '-']);
  });

  it('takes the configured buffer and passes the filter as one last argument', () => {
    const args = tcpdumpArgs({ interface: 'eth1', bufferKiB: 131072, filter: 'tcp port 25 or tcp port 143' });
    expect(bufferOf(args)).toBe('131072');
    expect(args.at(-1)).toBe('tcp port 25 or tcp port 143');
  });
});

describe('kernelDrops', () => {
  it("reads tcpdump's statistics: the SIGUSR1 line and the lines at exit, the last count winning", () => {
    expect(
      kernelDrops('tcpdump: listening on lo, link-type EN10MB (Ethernet), snapshot length 262144 bytes'),
    ).toBeNull();
    expect(
      kernelDrops('tcpdump: 275 packets captured, 552 packets received by filter, 2 packets dropped by kernel'),
    ).toBe(2);
    expect(kernelDrops('300 packets captured\n301 packets received by filter\n1 packet dropped by kernel\n')).toBe(1);
    expect(kernelDrops('0 packets dropped by kernel\n12 packets dropped by kernel')).toBe(12);
  });
});
