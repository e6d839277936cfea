// The service configuration (TypeBox schema: the same JSON Schema validates env/YAML input).
import { ConfigError } from '@li/config';
import { CommonConfig } from '@li/runtime';
import Type, { type Static } from 'typebox';
import { Value } from 'typebox/value';
import type { DomainConfig } from './domain/engine.ts';

const Announcements = Type.Object(
  {
    success: Type.Optional(Type.String({ minLength: 1 })),
    alreadyRegistered: Type.Optional(Type.String({ minLength: 1 })),
    notAllowed: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const ConfigSchema = Type.Object({
  http: Type.Object({
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8087 }),
  }),
  ssc: Type.Object({
    latest: Type.Array(Type.String({ minLength: 1 }), { default: ['*57'] }),
    previous: Type.Array(Type.String({ minLength: 1 }), { default: ['*57*2'] }),
    /** Seed 003 §3.9: announcement ids per SSC outcome, for every tenant without its own. */
    announcements: Type.Object(
      {
        success: Type.String({ minLength: 1, default: 'mcid-registered' }),
        alreadyRegistered: Type.String({ minLength: 1, default: 'mcid-already-registered' }),
        notAllowed: Type.String({ minLength: 1, default: 'mcid-not-allowed' }),
      },
      { default: {} },
    ),
    /** Per tenant (virtual telephony provider): any of the three ids; the rest come from `announcements`. */
    tenantAnnouncements: Type.Record(Type.String({ minLength: 1 }), Announcements, { default: {} }),
    /** How long the outcome of an SSC invocation stays readable (GET …/ssc-outcomes). */
    outcomeTtlSeconds: Type.Integer({ minimum: 60, default: 86_400 }),
  }),
  barredStatuses: Type.Array(Type.Integer({ minimum: 300, maximum: 699 }), { default: [433, 603] }),
  reportBarredAttempts: Type.Boolean({ default: false }),
  pendingCallTtlSeconds: Type.Integer({ minimum: 60, default: 14_400 }),
  /** Seed 003 §2.2: capture Diversion headers (RFC 5806) as History-Info when the INVITE has none. */
  diversionToHistoryInfo: Type.Boolean({ default: true }),
  /** Seed 003 §3.2 mtasComDetailsReportingType: CDS (0) or LOCAL (1). */
  reportingType: Type.Union([Type.Literal('CDS'), Type.Literal('LOCAL')], { default: 'LOCAL' }),
  /** With CDS reporting, also spool to local storage when the CDS fails. */
  spoolToLocal: Type.Boolean({ default: true }),
  diameter: Type.Object({
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 3868 }),
    originHost: Type.String({ minLength: 1, default: 'mcid.mediation.invalid' }),
    originRealm: Type.String({ minLength: 1, default: 'mediation.invalid' }),
    destinationRealm: Type.String({ minLength: 1, default: 'cdf.invalid' }),
    destinationHost: Type.Optional(Type.String({ minLength: 1 })),
    hostIp: Type.String({ default: '127.0.0.1' }),
    serviceContextId: Type.String({ minLength: 1, default: '32275@3gpp.org' }),
    privateVendorId: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { default: null }),
    watchdogSeconds: Type.Integer({ minimum: 6, default: 30 }),
    answerTimeoutMs: Type.Integer({ minimum: 100, default: 6000 }),
    /** Longest message taken from the CDS; a longer one closes the connection (MCD_ERR_DIAMETER_DECODE). */
    maxMessageBytes: Type.Integer({ minimum: 4096, maximum: 16_777_215, default: 65_536 }),
  }),
  localStorage: Type.Object({
    /** Seed 003 §2.3.4: files go to `<baseDirectory>/MtasMcidInfo/PL-<processor>`. */
    baseDirectory: Type.String({ minLength: 1, default: '/var/lib/li/mcid' }),
    /** The processor (instance) number n of PL-<n>: one per mcid-store instance. */
    processor: Type.Integer({ minimum: 1, default: 1 }),
    /** Overrides the PL-<n> layout with a plain directory (tests, special mounts). */
    directory: Type.Optional(Type.String({ minLength: 1 })),
    /** Metric label; default `PL-<processor>`. */
    fileSystem: Type.Optional(Type.String({ minLength: 1 })),
    /** Seed 003 §3.7 access rights, octal: of the ACR files and of their directory. */
    fileMode: Type.String({ pattern: '^0?[0-7]{3}$', default: '0640' }),
    dirMode: Type.String({ pattern: '^0?[0-7]{3}$', default: '0750' }),
    /** Owner of the directory and files (both or neither); applied when running as root. */
    ownerUid: Type.Optional(Type.Integer({ minimum: 0 })),
    ownerGid: Type.Optional(Type.Integer({ minimum: 0 })),
    nodeId: Type.String({ pattern: '^[A-Za-z0-9-]+$', default: 'mcid1' }),
    maxTimeSeconds: Type.Integer({ minimum: 1, default: 900 }),
    maxRecords: Type.Integer({ minimum: 1, default: 1000 }),
    maxFileBytes: Type.Integer({ minimum: 1024, default: 10 * 1024 * 1024 }),
    fullDiskPercent: Type.Number({ exclusiveMinimum: 0, maximum: 100, default: 90 }),
    notFullDiskPercent: Type.Number({ minimum: 0, maximum: 100, default: 80 }),
  }),
  /** Seed 003 §3.6: closed ACR files pushed by FTP or SFTP, removed locally once confirmed. */
  retrieval: Type.Object({
    mode: Type.Union([Type.Literal('NONE'), Type.Literal('PUSH')], { default: 'NONE' }),
    protocol: Type.Union([Type.Literal('SFTP'), Type.Literal('FTP')], { default: 'SFTP' }),
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    /** Default 22 (SFTP) or 21 (FTP). */
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    username: Type.String({ minLength: 1, default: 'anonymous' }),
    password: Type.Optional(Type.String()),
    /** SFTP: a private key file (a mounted secret). */
    privateKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    /** SFTP: the server's host key fingerprint (`SHA256:…`, as `ssh-keygen -lf` prints it). */
    hostKeySha256: Type.Optional(Type.String({ pattern: '^(SHA256:)?[A-Za-z0-9+/]{43}=?$' })),
    /** Remote base directory; files land in `<directory>/MtasMcidInfo/PL-<n>`. */
    directory: Type.String({ minLength: 1, default: '.' }),
    scanSeconds: Type.Number({ exclusiveMinimum: 0, default: 10 }),
    retrySeconds: Type.Number({ exclusiveMinimum: 0, default: 30 }),
    timeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
  }),
});

export type McidConfig = Static<typeof ConfigSchema>;

type ConfigResult = { ok: true; config: McidConfig } | { ok: false; field: string; reason: string };

/** Fills defaults and validates; the first error names its field (e.g. `/localStorage/maxRecords`). */
export function parseConfig(input: unknown): ConfigResult {
  const base = typeof input === 'object' && input !== null ? structuredClone(input) : {};
  const withSections = { http: {}, ssc: {}, diameter: {}, localStorage: {}, retrieval: {}, ...(base as object) };
  const value = Value.Default(ConfigSchema, withSections);
  const first = [...Value.Errors(ConfigSchema, value)][0];
  if (first) return { ok: false, field: first.instancePath || '/', reason: first.message };
  const c = value as McidConfig;
  if (c.localStorage.notFullDiskPercent >= c.localStorage.fullDiskPercent) {
    return { ok: false, field: '/localStorage/notFullDiskPercent', reason: 'must be below fullDiskPercent' };
  }
  if ((c.localStorage.ownerUid === undefined) !== (c.localStorage.ownerGid === undefined)) {
    return { ok: false, field: '/localStorage/ownerGid', reason: 'ownerUid and ownerGid go together' };
  }
  return { ok: true, config: c };
}

/** The local ACR directory: the PL-<n> layout unless overridden. */
export function acrLayoutOf(c: McidConfig): {
  directory: string;
  plName: string;
  fileSystem: string;
  fileMode: number;
  dirMode: number;
  owner?: { uid: number; gid: number };
} {
  const ls = c.localStorage;
  const plName = `PL-${ls.processor}`;
  return {
    directory: ls.directory ?? `${ls.baseDirectory.replace(/\/+$/, '')}/MtasMcidInfo/${plName}`,
    plName,
    fileSystem: ls.fileSystem ?? plName,
    fileMode: Number.parseInt(ls.fileMode, 8),
    dirMode: Number.parseInt(ls.dirMode, 8),
    ...(ls.ownerUid !== undefined && ls.ownerGid !== undefined
      ? { owner: { uid: ls.ownerUid, gid: ls.ownerGid } }
      : {}),
  };
}

/** The domain part of the service config. */
export function domainConfigOf(c: McidConfig): DomainConfig {
  return {
    ssc: { latest: c.ssc.latest, previous: c.ssc.previous },
    sscAnnouncements: { default: c.ssc.announcements, tenants: c.ssc.tenantAnnouncements },
    sscOutcomeTtlSeconds: c.ssc.outcomeTtlSeconds,
    barredStatuses: c.barredStatuses,
    reportBarredAttempts: c.reportBarredAttempts,
    pendingCallTtlSeconds: c.pendingCallTtlSeconds,
    diversionToHistoryInfo: c.diversionToHistoryInfo,
  };
}

// The domain's sections (http, ssc, diameter, localStorage, …) each default to {} so that
// their own defaults apply; env names follow them: LI_DIAMETER__PORT, LI_LOCAL_STORAGE__DIRECTORY.
const sections = Object.fromEntries(
  Object.entries(ConfigSchema.properties).map(([k, v]) => {
    const props = (v as { properties?: Type.TProperties }).properties;
    // Rebuilt, not spread: a spread copy of a TypeBox schema is no longer one.
    return [k, props ? Type.Object(props, { default: {} }) : v];
  }),
) as typeof ConfigSchema.properties;

/** The process configuration read by runService: CommonConfig plus the sections above. */
export const Config = Type.Object({
  ...CommonConfig.properties,
  ...sections,
  metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9466 }),
  tenants: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'tenant ids this deployment serves' }),
  tickSeconds: Type.Number({ exclusiveMinimum: 0, default: 2 }),
  tokensFile: Type.String({
    minLength: 1,
    description: 'YAML/JSON file: token → {subject, tenant, role} (a mounted secret; the same format as admf)',
  }),
});

/** The service settings of a process config; a bad one throws ConfigError naming its key. */
export function mcidConfigOf(config: Static<typeof Config>): McidConfig {
  const parsed = parseConfig(config);
  if (!parsed.ok) {
    throw new ConfigError([
      { key: parsed.field.replace(/^\//, '').replaceAll('/', '.'), env: '', expected: parsed.reason },
    ]);
  }
  return parsed.config;
}
