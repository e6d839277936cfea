// Keeps charon's connections in step with the LEMFs that carry IPsec settings, live: a LEMF
// added or changed loads its connection (and PSK or key) over VICI and brings the tunnel up; a
// LEMF removed unloads it. Polls list-sas for the tunnel state the delivery gate and the metrics
// read (li_cc_delivery_ipsec_sa_up, _rekeys_total, _bytes_total), and brings a down tunnel up again.
import type { Logger } from '@li/log';
import { type IpsecSettings, ipsecProblem, type LemfDestination } from '@li/schemas';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type ConnOptions, ipsecConnection, ipsecConnName, type SaState, saStateOf } from '../domain/ipsec-profile.ts';
import type { SecretResolver } from './transport-factory.ts';
import { ViciClient } from './vici-client.ts';

export interface IpsecControllerOptions {
  /** charon's VICI socket (unix:///path or a path). */
  viciSocket: string;
  secrets: SecretResolver;
  registry: Registry;
  log: Logger;
  /** How often list-sas is read (default 1000 ms). */
  pollMs?: number;
  /** Wait this long before initiating a down tunnel again (default 5000 ms). */
  retryMs?: number;
  /** Tests: short SA lifetimes to see a rekey. */
  lifetimeOverride?: ConnOptions['lifetimeOverride'];
}

interface Tunnel {
  name: string;
  tenant: string;
  /** The LEMF record it was loaded from (secrets resolve in its tenant). */
  dest: LemfDestination;
  /** Its settings break the rules: not loaded until a new LEMF record. */
  refused: boolean;
  lastLoad: number;
  settings: IpsecSettings;
  /** The LEMFs delivering through it (LEMFs behind one gateway with the same settings share it). */
  lemfs: Map<string, { tenant: string; lemf: string }>;
  state: SaState | null;
  /** null: loaded; else why it is not (bad settings, unknown secret, charon refused). */
  error: string | null;
  lastInitiate: number;
  /** An initiate is under way: no second one (it would make a duplicate CHILD_SA). */
  initiating: boolean;
  keyId: string | null;
}

const lemfLabel = (d: LemfDestination) => (d.id.startsWith(`${d.tenant}/`) ? d.id.slice(d.tenant.length + 1) : d.id);

export class IpsecController {
  readonly #o: IpsecControllerOptions;
  readonly #vici: ViciClient;
  /** initiate waits for the exchange: its own connection keeps list-sas polling free. */
  readonly #initiator: ViciClient;
  /** Tunnels by connection name. */
  readonly #tunnels = new Map<string, Tunnel>();
  readonly #byLemf = new Map<string, string>();
  readonly #up: Gauge<'tenant' | 'lemf'>;
  readonly #rekeys: Counter<'tenant' | 'lemf'>;
  readonly #bytes: Counter<'tenant' | 'lemf' | 'direction'>;
  #timer: NodeJS.Timeout | null = null;
  #polling: Promise<void> | null = null;

  constructor(o: IpsecControllerOptions) {
    this.#o = o;
    this.#vici = new ViciClient(o.viciSocket);
    this.#initiator = new ViciClient(o.viciSocket, 30_000);
    const tunnels = this.#tunnels;
    this.#up = new Gauge({
      name: 'li_cc_delivery_ipsec_sa_up',
      help: "1 when the LEMF's IPsec tunnel (IKE SA and CHILD_SA) is established; delivery to it waits while 0",
      labelNames: ['tenant', 'lemf'],
      registers: [o.registry],
      collect() {
        this.reset();
        for (const t of tunnels.values()) for (const l of t.lemfs.values()) this.set(l, t.state?.up ? 1 : 0);
      },
    });
    this.#rekeys = new Counter({
      name: 'li_cc_delivery_ipsec_rekeys_total',
      help: "CHILD_SA rekeys seen on the LEMF's tunnel",
      labelNames: ['tenant', 'lemf'],
      registers: [o.registry],
    });
    this.#bytes = new Counter({
      name: 'li_cc_delivery_ipsec_bytes_total',
      help: "bytes through the LEMF's ESP SAs (direction in/out)",
      labelNames: ['tenant', 'lemf', 'direction'],
      registers: [o.registry],
    });
  }

  start(): void {
    const tick = () => {
      this.#polling = this.poll()
        .catch((err: unknown) => this.#o.log.warn({ err: String(err) }, 'IPsec state could not be read from charon'))
        .finally(() => {
          this.#polling = null;
          if (this.#timer) this.#timer = setTimeout(tick, this.#o.pollMs ?? 1000);
        });
    };
    this.#timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#polling;
    this.#vici.close();
    this.#initiator.close();
  }

  /** Whether delivery to the LEMF may go: it needs no tunnel, or its tunnel is up. */
  ready(lemfId: string): boolean {
    const name = this.#byLemf.get(lemfId);
    if (name === undefined) return true;
    const t = this.#tunnels.get(name);
    return t !== undefined && t.error === null && t.state?.up === true;
  }

  /** The LEMF's tunnel as last read (tests, status). */
  state(lemfId: string): { name: string; error: string | null; sa: SaState | null } | null {
    const t = this.#tunnels.get(this.#byLemf.get(lemfId) ?? '');
    return t ? { name: t.name, error: t.error, sa: t.state } : null;
  }

  /** A LEMF record arrived (added or changed). */
  async apply(dest: LemfDestination): Promise<void> {
    const s = dest.ipsec ?? null;
    if (!s || !dest.enabled) {
      await this.remove(dest.id);
      return;
    }
    const name = ipsecConnName(dest.tenant, s);
    const was = this.#byLemf.get(dest.id);
    if (was !== undefined && was !== name) await this.remove(dest.id);
    // Registered first, so the gate holds delivery even while loading fails.
    this.#byLemf.set(dest.id, name);
    const labels = { tenant: dest.tenant, lemf: lemfLabel(dest) };
    const cur = this.#tunnels.get(name);
    if (cur) {
      cur.lemfs.set(dest.id, labels);
      if (cur.error === null) return;
    }
    const t: Tunnel = cur ?? {
      name,
      tenant: dest.tenant,
      dest,
      refused: false,
      lastLoad: 0,
      settings: s,
      lemfs: new Map([[dest.id, labels]]),
      state: null,
      error: null,
      lastInitiate: 0,
      initiating: false,
      keyId: null,
    };
    t.dest = dest;
    t.error = null;
    t.refused = false;
    this.#tunnels.set(name, t);
    const problem = ipsecProblem(dest);
    if (problem) {
      t.error = `${problem.field} ${problem.reason}`;
      t.refused = true;
      this.#o.log.warn({ lemf: dest.id, reason: problem.field }, 'LEMF IPsec settings refused; delivery waits');
      return;
    }
    await this.#load(t);
  }

  /**
   * Loads the tunnel's PSK or key and connection into charon and initiates it. A failure (charon
   * not up yet, a secret not there yet) is retried by poll(), as is a connection charon lost in
   * a restart.
   */
  async #load(t: Tunnel): Promise<void> {
    const { dest, name, settings: s } = t;
    t.lastLoad = Date.now();
    try {
      const secret = (ref: string | null, field: string) => {
        if (!ref) return undefined;
        const v = this.#o.secrets(dest.tenant, ref);
        if (v === null) throw new Error(`${field}: secret not found`);
        return v;
      };
      const psk = secret(s.pskRef, 'ipsec.pskRef');
      const cert = secret(s.certRef, 'ipsec.certRef');
      const key = secret(s.keyRef, 'ipsec.keyRef');
      const ca = secret(s.caRef, 'ipsec.caRef');
      if (psk)
        await this.#vici.request('load-shared', {
          id: name,
          type: 'IKE',
          data: psk.toString('utf8').trim(),
          owners: [s.remoteId ?? s.gateway],
        });
      if (key) {
        const r = await this.#vici.request('load-key', { type: 'any', data: key });
        t.keyId = typeof r.id === 'string' ? r.id : null;
      }
      await this.#vici.request(
        'load-conn',
        ipsecConnection(name, s, {
          ...(cert ? { cert } : {}),
          ...(ca ? { ca } : {}),
          ...(this.#o.lifetimeOverride ? { lifetimeOverride: this.#o.lifetimeOverride } : {}),
        }),
      );
      t.error = null;
      this.#o.log.info({ lemf: dest.id, state: s.profile }, 'IPsec connection loaded');
      this.#initiate(t);
    } catch (e) {
      const error = (e as Error).message;
      if (error !== t.error)
        this.#o.log.warn({ lemf: dest.id, err: error }, 'LEMF IPsec connection not loaded; delivery waits');
      t.error = error;
    }
  }

  /** A LEMF was removed or lost its IPsec settings; its tunnel goes with its last LEMF. */
  async remove(lemfId: string): Promise<void> {
    const name = this.#byLemf.get(lemfId);
    if (name === undefined) return;
    this.#byLemf.delete(lemfId);
    const t = this.#tunnels.get(name);
    if (!t) return;
    t.lemfs.delete(lemfId);
    if (t.lemfs.size > 0) return;
    this.#tunnels.delete(name);
    await this.#unload(t);
  }

  async #terminate(name: string): Promise<void> {
    await this.#vici.request('terminate', { ike: name, force: 'yes', timeout: '-1' }).catch(() => undefined);
  }

  async #unload(t: Tunnel): Promise<void> {
    await this.#vici.request('unload-conn', { name: t.name }).catch(() => undefined);
    await this.#terminate(t.name);
    if (t.settings.pskRef) await this.#vici.request('unload-shared', { id: t.name }).catch(() => undefined);
    if (t.keyId) await this.#vici.request('unload-key', { id: t.keyId }).catch(() => undefined);
  }

  #initiate(t: Tunnel): void {
    if (t.initiating) return;
    t.initiating = true;
    t.lastInitiate = Date.now();
    void this.#initiator
      .request('initiate', { child: t.name, ike: t.name, timeout: '20000', 'init-limits': 'no' })
      .catch((e: unknown) => this.#o.log.warn({ tenant: t.tenant, err: (e as Error).message }, 'IPsec initiate failed'))
      .finally(() => {
        t.initiating = false;
        t.lastInitiate = Date.now();
      });
  }

  /** Reads every SA once: state, rekeys and bytes per LEMF; initiates tunnels that are down. */
  async poll(): Promise<void> {
    // charon restarted, or was not up (or a secret not there) when the LEMF came: load again
    const { conns } = await this.#vici.request('get-conns');
    const loaded = new Set(Array.isArray(conns) ? conns.map(String) : []);
    for (const t of this.#tunnels.values()) {
      if (t.refused || (t.error === null && loaded.has(t.name))) continue;
      if (Date.now() - t.lastLoad > (this.#o.retryMs ?? 5000)) await this.#load(t);
    }
    const { events } = await this.#vici.stream('list-sas', 'list-sa');
    for (const t of this.#tunnels.values()) {
      if (t.error !== null) continue;
      let state: SaState | null = null;
      for (const e of events) {
        const s = saStateOf(e, t.name);
        if (s && (!state || (s.up && !state.up))) state = s;
      }
      const before = t.state?.children ?? new Map();
      const after = state?.children ?? new Map();
      for (const [id, c] of after) {
        const old = before.get(id);
        const dIn = c.bytesIn - (old?.bytesIn ?? 0);
        const dOut = c.bytesOut - (old?.bytesOut ?? 0);
        for (const l of t.lemfs.values()) {
          if (!old && before.size > 0) this.#rekeys.inc(l);
          if (dIn > 0) this.#bytes.inc({ ...l, direction: 'in' }, dIn);
          if (dOut > 0) this.#bytes.inc({ ...l, direction: 'out' }, dOut);
        }
      }
      t.state = state;
      if (!state?.up && Date.now() - t.lastInitiate > (this.#o.retryMs ?? 5000)) this.#initiate(t);
    }
  }
}
