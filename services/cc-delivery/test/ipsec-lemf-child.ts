// The LEMF side of ipsec.int.test.ts, run inside the LEMF network namespace: ETSI TCP (IRI and
// CC ports, keep-alives answered), HI2 TCP and an FTP server on the LEMF's tunnel address. It
// writes what each receiver got to <dir>/<name>.ber every 100 ms and prints the FTP root.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LemfHarness } from '../src/testing/index.ts';
import { FtpSrvPeer } from './helpers/servers.ts';

const [dir = '', host = '', ports = ''] = process.argv.slice(2);
const [iri, cc, hi2, ftpPort] = ports.split(',').map(Number);
const receivers = {
  'etsi-iri': await new LemfHarness({ host, port: iri! }).start(),
  'etsi-cc': await new LemfHarness({ host, port: cc! }).start(),
  hi2: await new LemfHarness({ host, port: hi2! }).start(),
};
const ftp = new FtpSrvPeer(host);
ftp.port = ftpPort!;
await ftp.start();
const written = new Map<string, number>();
setInterval(() => {
  for (const [name, h] of Object.entries(receivers)) {
    if (written.get(name) === h.frames.length) continue;
    written.set(name, h.frames.length);
    writeFileSync(join(dir, `${name}.ber`), Buffer.concat(h.frames));
  }
}, 100);
process.stdout.write(`${JSON.stringify({ ftpRoot: ftp.root })}\n`);
process.on('SIGTERM', () => process.exit(0));
