// Our ACR bytes checked by an independent decoder: Wireshark's Diameter + 3GPP dissector.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acrMessage, buildAcrAvps } from '../src/adapters/diameter/acr.ts';
import { encodeMessage } from '../src/adapters/diameter/codec.ts';
import { sampleReports } from '../src/testing/reports.ts';

const dir = mkdtempSync(join(tmpdir(), 'mcid-tshark-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Wraps bytes in a TCP segment to port 3868 with text2pcap and returns tshark's verbose Diameter tree. */
function dissect(bytes: Buffer, name: string): string {
  let hex = '';
  for (let i = 0; i < bytes.length; i += 16) {
    hex += `${i.toString(16).padStart(6, '0')} ${[...bytes.subarray(i, i + 16)].map((x) => x.toString(16).padStart(2, '0')).join(' ')}\n`;
  }
  writeFileSync(join(dir, `${name}.hex`), hex);
  execFileSync('text2pcap', ['-q', '-T', '40000,3868', join(dir, `${name}.hex`), join(dir, `${name}.pcap`)]);
  return execFileSync('tshark', ['-r', join(dir, `${name}.pcap`), '-V', '-O', 'diameter'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

describe('ACR bytes through tshark', () => {
  it('decodes every AVP of an MCID ACR EVENT_RECORD with no malformed or error items', () => {
    const [report] = sampleReports(1);
    const id = {
      originHost: 'mcid-as.test.local',
      originRealm: 'test.local',
      destinationRealm: 'cdf.test.local',
      serviceContextId: '32275@3gpp.org',
      privateVendorId: 32473,
    };
    const tree = dissect(encodeMessage(acrMessage(buildAcrAvps(report!, id), 0x1234, 0x5678)), 'acr');
    expect(tree).toContain('Command Code: Accounting (271)');
    expect(tree).toContain('ApplicationId: Diameter Base Accounting (3)');
    expect(tree).toMatch(/Flags: 0xc0, Request, Proxyable/);
    expect(tree).toMatch(/Accounting-Record-Type\(480\).*val=Event Record \(1\)/);
    expect(tree).toMatch(/Accounting-Record-Number\(485\).*val=0/);
    expect(tree).toMatch(/Event-Timestamp\(55\).*val=Sep 21, 2026 14:13:20\.000000000 UTC/);
    expect(tree).toMatch(/MMTel-Service-Type\(2031\).*\(MCID\) \(14\)/);
    expect(tree).toMatch(/MMTel-Service-Type\(2031\).*\(CDIV\) \(6\)/);
    expect(tree).toMatch(/Role-Of-Node\(829\).*TERMINATING_ROLE \(1\)/);
    expect(tree).toMatch(/Node-Functionality\(862\).*AS \(6\)/);
    expect(tree).toMatch(/Subscriber-Role\(2033\).*TERMINATING \(1\)/);
    expect(tree).toMatch(/SIP-Request-Timestamp-Fraction\(2301\).*val=123/);
    expect(tree).toMatch(/Calling-Party-Address\(831\).*val=tel:\+15550001111/);
    expect(tree).toMatch(/Requested-Party-Address\(1251\).*val=sip:\+15552220000@ims\.example\.net;user=phone/);
    expect(tree).not.toMatch(/Malformed|Expert Info \(Error/);
    // The only warnings are for our private grouped AVP, which no public dictionary knows.
    const warnings = tree.match(/Expert Info \(Warning[^\n]*/g) ?? [];
    expect(warnings.every((w) => /Unknown (AVP 1 \(vendor=|Vendor)/.test(w))).toBe(true);
  });

  it('without a private vendor id the ACR decodes with no warnings at all', () => {
    const [report] = sampleReports(1);
    const tree = dissect(
      encodeMessage(
        acrMessage(
          buildAcrAvps(report!, {
            originHost: 'a.test',
            originRealm: 'test',
            destinationRealm: 'test',
            serviceContextId: '32275@3gpp.org',
            privateVendorId: null,
          }),
          1,
          2,
        ),
      ),
      'plain',
    );
    expect(tree).toContain('Accounting (271)');
    expect(tree).not.toMatch(/Expert Info/);
  });
});
