// Two network namespaces joined by a veth pair, a strongSwan charon in each (userland ESP:
// kernel-libipsec over a TUN device, as this kernel has no ESP; production uses kernel ESP with
// the same connections). The mediation namespace is the gateway of this process: a second veth
// pair routes the LEMF's tunnel subnet from the root namespace through it, so cc-delivery here
// reaches the LEMF only through the tunnel (the "node gateway" deployment, docs/IPSEC.md).
//
//  root ns (cc-delivery, test)  10.97.x.2 ─ veth ─ 10.97.x.1  mediation ns (charon)  10.98.x.1
//      ─ veth (captured) ─ 10.98.x.2  LEMF ns (charon, LEMF receivers on 10.202.x.1)
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pinnedNode } from '@li/testing';
import { sleep, waitFor } from './util.ts';

const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const ip = (...args: string[]) => sh('ip', args);

interface LabAddresses {
  /** root ns end of the gateway link (cc-delivery's source address: our traffic selector). */
  root: string;
  medLink: string;
  /** IKE addresses. */
  medGw: string;
  lemfGw: string;
  /** where the LEMF's receivers listen (its traffic selector). */
  lemfHost: string;
  localTs: string;
  remoteTs: string;
}

function charonConf(dir: string): string {
  return `charon {
  load = random nonce openssl kdf pem pkcs1 pkcs8 x509 pubkey constraints revocation socket-default kernel-libipsec kernel-netlink vici updown
  retransmit_timeout = 1.0
  retransmit_base = 1.2
  retransmit_tries = 30
  filelog { log { path = ${dir}/charon.log
    default = 1
    ike = 2
    cfg = 2 } }
  plugins {
    vici { socket = unix://${dir}/charon.vici }
    kernel-libipsec { allow_peer_ts = yes }
  }
}
`;
}

class IpsecLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'li-ipsec-lab-'));
  readonly med: string;
  readonly lemf: string;
  readonly a: LabAddresses;
  readonly #tag: string;
  readonly #procs: ChildProcess[] = [];
  #capture: ChildProcess | null = null;

  /** `n` (1-200) keeps the addresses and names of concurrent labs apart. */
  constructor(n: number) {
    this.#tag = `lix${n}`;
    this.med = `${this.#tag}-med`;
    this.lemf = `${this.#tag}-lemf`;
    this.a = {
      root: `10.97.${n}.2`,
      medLink: `10.97.${n}.1`,
      medGw: `10.98.${n}.1`,
      lemfGw: `10.98.${n}.2`,
      lemfHost: `10.202.${n}.1`,
      localTs: `10.97.${n}.0/30`,
      remoteTs: `10.202.${n}.0/24`,
    };
  }

  /** The veth end in the mediation namespace that faces the LEMF (the one captured). */
  get medVeth(): string {
    return `${this.#tag}-m`;
  }

  up(): void {
    const { a } = this;
    const t = this.#tag;
    this.down();
    ip('netns', 'add', this.med);
    ip('netns', 'add', this.lemf);
    for (const ns of [this.med, this.lemf]) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      sh('ip', [
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
    }
    ip('link', 'add', `${t}-r`, 'type', 'veth', 'peer', 'name', `${t}-rm`, 'netns', this.med);
    ip('addr', 'add', `${a.root}/30`, 'dev', `${t}-r`);
    ip('link', 'set', `${t}-r`, 'up');
    ip('-n', this.med, 'addr', 'add', `${a.medLink}/30`, 'dev', `${t}-rm`);
    ip('-n', this.med, 'link', 'set', `${t}-rm`, 'up');
    ip('-n', this.med, 'link', 'add', `${t}-m`, 'type', 'veth', 'peer', 'name', `${t}-l`, 'netns', this.lemf);
    ip('-n', this.med, 'addr', 'add', `${a.medGw}/24`, 'dev', `${t}-m`);
    ip('-n', this.med, 'link', 'set', `${t}-m`, 'up');
    ip('-n', this.lemf, 'addr', 'add', `${a.lemfGw}/24`, 'dev', `${t}-l`);
    ip('-n', this.lemf, 'link', 'set', `${t}-l`, 'up');
    ip('-n', this.lemf, 'addr', 'add', `${a.lemfHost}/32`, 'dev', 'lo');
    sh('ip', ['netns', 'exec', this.med, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // Without an SA the selectors are unreachable (never in clear): charon's table 220 routes
    // them over ipsec0 only while a policy is installed.
    ip('-n', this.med, 'route', 'add', 'prohibit', a.remoteTs);
    ip('-n', this.lemf, 'route', 'add', 'prohibit', a.localTs);
    ip('route', 'add', a.remoteTs, 'via', a.medLink, 'dev', `${t}-r`);
    for (const side of ['med', 'lemf'] as const) {
      const d = join(this.dir, side);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'strongswan.conf'), charonConf(d));
      this.#startCharon(side);
    }
  }

  #charons = new Map<string, ChildProcess>();

  #startCharon(side: 'med' | 'lemf'): void {
    const d = join(this.dir, side);
    const ns = side === 'med' ? this.med : this.lemf;
    // a private /run per charon (its pid file), its own config and VICI socket
    const p = spawn(
      'ip',
      ['netns', 'exec', ns, 'unshare', '-m', 'sh', '-c', 'mount -t tmpfs tmpfs /run && exec /usr/lib/ipsec/charon'],
      { env: { ...process.env, STRONGSWAN_CONF: join(d, 'strongswan.conf') }, stdio: 'ignore' },
    );
    this.#procs.push(p);
    this.#charons.set(side, p);
  }

  /** charon of one side stops (its SAs and loaded connections gone) and starts again, empty. */
  async restartCharon(side: 'med' | 'lemf'): Promise<void> {
    const p = this.#charons.get(side);
    if (p && p.exitCode === null) {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      await exited;
    }
    rmSync(this.vici(side), { force: true });
    this.#startCharon(side);
    await waitFor(() => existsSync(this.vici(side)), `charon (${side}) again`, 10_000);
  }

  vici(side: 'med' | 'lemf'): string {
    return join(this.dir, side, 'charon.vici');
  }

  /** swanctl against one side's charon. */
  swanctl(side: 'med' | 'lemf', ...args: string[]): string {
    return sh('swanctl', [...args, '--uri', `unix://${this.vici(side)}`]);
  }

  /** Loads the LEMF gateway's own configuration (a swanctl.conf with its x509/private dirs). */
  loadLemfConfig(conf: string, files: Record<string, string> = {}): string {
    const d = join(this.dir, 'lemf', 'swanctl');
    for (const sub of ['x509', 'x509ca', 'private']) mkdirSync(join(d, sub), { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(d, name), content);
    writeFileSync(join(d, 'swanctl.conf'), conf);
    return this.swanctl('lemf', '--load-all', '--file', join(d, 'swanctl.conf'));
  }

  /** A process in the LEMF namespace. */
  spawnInLemf(cmd: string, args: string[]): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.lemf, cmd, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#procs.push(p);
    return p;
  }

  /** tcpdump on the veth between the two gateways, into a pcap file. */
  startCapture(): string {
    const file = join(this.dir, 'veth.pcap');
    this.#capture = spawn('ip', ['netns', 'exec', this.med, 'tcpdump', '-i', this.medVeth, '-U', '-n', '-w', file], {
      stdio: 'ignore',
    });
    return file;
  }

  async stopCapture(): Promise<void> {
    const c = this.#capture;
    this.#capture = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGINT');
    await exited;
  }

  /** Packets of the capture matching a tcpdump filter, one text line each. */
  read(file: string, filter: string): string[] {
    return sh('tcpdump', ['-nn', '-r', file, filter])
      .split('\n')
      .filter((l) => l.trim() !== '');
  }

  /** The link between the gateways down or up (a network outage). */
  link(up: boolean): void {
    ip('-n', this.lemf, 'link', 'set', `${this.#tag}-l`, up ? 'up' : 'down');
  }

  down(): void {
    for (const p of this.#procs.splice(0)) if (p.exitCode === null) p.kill('SIGTERM');
    if (this.#capture?.exitCode === null) this.#capture.kill('SIGINT');
    try {
      ip('route', 'del', this.a.remoteTs);
    } catch {}
    for (const ns of [this.med, this.lemf]) {
      try {
        ip('netns', 'del', ns);
      } catch {}
    }
    try {
      ip('link', 'del', `${this.#tag}-r`);
    } catch {}
  }

  dispose(): void {
    this.down();
    // LI_IPSEC_LAB_KEEP=1 keeps the charon logs and the capture for a look after a failure
    if (process.env.LI_IPSEC_LAB_KEEP !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}

export const PORTS = { iri: 40001, cc: 40002, hi2: 12500, ftp: 2121 };
export const PSK = 'it-annex2-test-psk-7f3a9c';

/** A CA and two certificates (P-256) for the modern profile, made with openssl. */
function makeCerts(dir: string) {
  const o = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  o('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  o('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=LI test CA', '-days', '2', '-out', 'ca.pem');
  for (const n of ['med', 'lemf']) {
    o('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${n}.ec`);
    o('pkcs8', '-topk8', '-nocrypt', '-in', `${n}.ec`, '-out', `${n}.key`);
    o('req', '-new', '-key', `${n}.key`, '-subj', `/CN=${n}.example`, '-out', `${n}.csr`);
    execFileSync(
      'sh',
      [
        '-c',
        `printf 'subjectAltName=DNS:${n}.example\\n' > ${n}.ext && openssl x509 -req -in ${n}.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ${n}.ext -out ${n}.pem`,
      ],
      { cwd: dir, stdio: 'ignore' },
    );
  }
  const r = (f: string) => readFileSync(join(dir, f), 'utf8');
  return {
    ca: r('ca.pem'),
    medCert: r('med.pem'),
    medKey: r('med.key'),
    lemfCert: r('lemf.pem'),
    lemfKey: r('lemf.key'),
  };
}

function lemfGatewayConfig(lab: IpsecLab, profile: 'it-annex2' | 'modern'): string {
  const { a } = lab;
  if (profile === 'it-annex2')
    return `connections { med {
  version = 1
  aggressive = no
  local_addrs = ${a.lemfGw}
  remote_addrs = ${a.medGw}
  proposals = aes128-sha1-modp1024
  reauth_time = 86400s
  local { auth = psk
    id = ${a.lemfGw} }
  remote { auth = psk
    id = ${a.medGw} }
  children { med { local_ts = ${a.remoteTs}
    remote_ts = ${a.localTs}
    esp_proposals = aes128-sha1
    mode = tunnel } }
} }
secrets { ike-med { id = ${a.medGw}
  secret = "${PSK}" } }
`;
  return `connections { med {
  version = 2
  local_addrs = ${a.lemfGw}
  remote_addrs = ${a.medGw}
  proposals = aes256gcm16-prfsha384-ecp256-x25519
  local { auth = pubkey
    certs = lemf.pem
    id = lemf.example }
  remote { auth = pubkey
    id = med.example
    cacerts = ca.pem }
  children { med { local_ts = ${a.remoteTs}
    remote_ts = ${a.localTs}
    esp_proposals = aes256gcm16-ecp256-x25519
    mode = tunnel } }
} }
`;
}

/** The lab up, the LEMF gateway configured, the LEMF's receivers running, the capture started. */
export async function startLab(profile: 'it-annex2' | 'modern', n: number, cleanup: (() => Promise<void> | void)[]) {
  const lab = new IpsecLab(n);
  cleanup.push(() => lab.dispose());
  lab.up();
  await waitFor(() => existsSync(lab.vici('med')) && existsSync(lab.vici('lemf')), 'both charons', 10_000);
  const certs = profile === 'modern' ? makeCerts(lab.dir) : null;
  if (certs) {
    lab.loadLemfConfig(lemfGatewayConfig(lab, profile), {
      'x509/lemf.pem': certs.lemfCert,
      'x509ca/ca.pem': certs.ca,
      'private/lemf.key': certs.lemfKey,
    });
  } else lab.loadLemfConfig(lemfGatewayConfig(lab, profile));

  // the LEMF's receivers, in its namespace
  const recvDir = join(lab.dir, 'recv');
  execFileSync('mkdir', ['-p', recvDir]);
  const lemfSide = lab.spawnInLemf(pinnedNode(), [
    join(import.meta.dirname, '..', 'ipsec-lemf-child.ts'),
    recvDir,
    lab.a.lemfHost,
    [PORTS.iri, PORTS.cc, PORTS.hi2, PORTS.ftp].join(','),
  ]);
  const ftpRoot = await new Promise<string>((resolve, reject) => {
    lemfSide.stdout!.once('data', (b: Buffer) => resolve((JSON.parse(b.toString()) as { ftpRoot: string }).ftpRoot));
    lemfSide.once('exit', (c) => reject(new Error(`LEMF side exited (${c})`)));
  });
  const pcap = lab.startCapture();
  await sleep(300);
  const recv = (name: string) => {
    const f = join(recvDir, `${name}.ber`);
    return existsSync(f) ? readFileSync(f) : Buffer.alloc(0);
  };
  return { lab, certs, ftpRoot, pcap, recv };
}
