// LEMF destinations (the authority's monitoring centres) of a tenant; cc-delivery reads them
// from li.<t>.lemfs. Each transport needs its own settings blocks: TRANSPORT_TRAITS says which,
// the same table cc-delivery delivers by, so admf never accepts a LEMF cc-delivery cannot use.
import {
  type EmailSettings,
  type Endpoint,
  FILE_FORMATS,
  FILE_STREAMS,
  type FileFormat,
  type FileSettings,
  type FileStream,
  fileSelection,
  type IpsecSettings,
  ipsecProblem,
  isSecretRef,
  LEMF_TRANSPORTS,
  type LemfDestination,
  type LemfTransport,
  type PipeSettings,
  plaintextSetting,
  type SettingsBlock,
  secretRefsOf,
  TIMESTAMP_PROFILES,
  type TimestampProfile,
  type TlsSettings,
  TRANSPORT_TRAITS,
} from '@li/schemas';
import type { Result } from '../errors.ts';
import { errResult, okResult } from '../errors.ts';

const LEMF_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * A pinned SFTP host key: the SHA-256 fingerprint as OpenSSH prints it, `SHA256:` (optional) and
 * 43 base64 characters without padding (32 bytes; the last character carries 2 zero bits).
 */
export const HOST_KEY_SHA256_PATTERN = /^(?:SHA256:)?[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$/;

export interface LemfInput {
  name: string;
  transport: string;
  address?: Endpoint | null;
  ccAddress?: Endpoint | null;
  tls?: TlsSettings | null;
  keepaliveSeconds?: number;
  keepaliveTimeoutSeconds?: number;
  acknowledged?: boolean;
  /** Superseded by timestampProfile; stored as given and read by nothing. */
  timestampFormat?: 'GENERALIZED_TIME' | 'MICROSECOND';
  /** A TIMESTAMP_PROFILES name; default ETSI_DEFAULT (records as encoded). */
  timestampProfile?: string;
  files?: FileSettings | null;
  email?: EmailSettings | null;
  pipe?: PipeSettings | null;
  /** A site-to-site IPsec tunnel the LEMF's traffic takes (optional fields default to null / modern). */
  ipsec?: (Partial<IpsecSettings> & Pick<IpsecSettings, 'gateway' | 'localTs' | 'remoteTs'>) | null;
  allowInsecure?: boolean;
  enabled?: boolean;
}

/** Operator settings a LEMF is checked against. */
export interface LemfPolicy {
  /** Names of the entries of cc-delivery's PIPE allow-list; a PIPE LEMF must name one. */
  pipeCommands: readonly string[];
}

function endpoint(e: Endpoint | null | undefined, field: string): Result<Endpoint | null> {
  if (e === null || e === undefined) return okResult(null);
  if (typeof e.host !== 'string' || e.host === '' || e.host.length > 253 || /\s/.test(e.host)) {
    return errResult('ADM_ERR_VALIDATION', `${field}.host must be a host name or address`, `${field}.host`);
  }
  if (!Number.isInteger(e.port) || e.port < 1 || e.port > 65535) {
    return errResult('ADM_ERR_VALIDATION', `${field}.port must be 1-65535`, `${field}.port`);
  }
  return okResult({ host: e.host, port: e.port });
}

export function buildLemf(
  tenant: string,
  id: string,
  input: LemfInput,
  previousVersion: number,
  policy: LemfPolicy,
): Result<LemfDestination> {
  if (!LEMF_ID_PATTERN.test(id))
    return errResult('ADM_ERR_VALIDATION', 'lemfId must be 1-64 of A-Z a-z 0-9 _ -', 'lemfId');
  if (typeof input.name !== 'string' || input.name.trim() === '' || input.name.length > 128) {
    return errResult('ADM_ERR_VALIDATION', 'name must be 1-128 characters', 'name');
  }
  if (!LEMF_TRANSPORTS.includes(input.transport as LemfTransport)) {
    return errResult('ADM_ERR_VALIDATION', `transport must be one of ${LEMF_TRANSPORTS.join(', ')}`, 'transport');
  }
  const transport = input.transport as LemfTransport;
  const requires: readonly SettingsBlock[] = TRANSPORT_TRAITS[transport].requires;
  const missing = (block: SettingsBlock) =>
    errResult('ADM_ERR_VALIDATION', `${block} is required for ${transport}`, block);
  if (requires.includes('address') && !input.address) return missing('address');
  const address = endpoint(input.address, 'address');
  if (!address.ok) return address;
  const cc = endpoint(input.ccAddress, 'ccAddress');
  if (!cc.ok) return cc;
  const files = input.files ?? null;
  if (requires.includes('files') && !files) return missing('files');
  if (files) {
    for (const k of ['maxRecords', 'maxBytes', 'maxSeconds'] as const) {
      if (!Number.isInteger(files[k]) || files[k] < 1) {
        return errResult('ADM_ERR_VALIDATION', `files.${k} must be a positive integer`, `files.${k}`);
      }
    }
    if (typeof files.directory !== 'string' || files.directory === '') {
      return errResult('ADM_ERR_VALIDATION', 'files.directory is required', 'files.directory');
    }
    if (typeof files.namePattern !== 'string' || files.namePattern === '') {
      return errResult('ADM_ERR_VALIDATION', 'files.namePattern is required', 'files.namePattern');
    }
    const pin = files.hostKeySha256 ?? null;
    if (pin !== null && (typeof pin !== 'string' || !HOST_KEY_SHA256_PATTERN.test(pin))) {
      return errResult(
        'ADM_ERR_VALIDATION',
        'files.hostKeySha256 must be an OpenSSH SHA-256 host key fingerprint: SHA256:<43 base64 characters>',
        'files.hostKeySha256',
      );
    }
    const selection = checkFileSelection(files);
    if (!selection.ok) return selection;
  }
  const email = input.email ?? null;
  if (requires.includes('email') && !email) return missing('email');
  if (email && (!Array.isArray(email.to) || email.to.length === 0)) {
    return errResult('ADM_ERR_VALIDATION', 'email.to must list at least one address', 'email.to');
  }
  const pipe = input.pipe ?? null;
  if (requires.includes('pipe') && !pipe) return missing('pipe');
  // A tenant names a command the operator allowed; it never supplies one.
  if (pipe && !policy.pipeCommands.includes(pipe.entry)) {
    const allowed = policy.pipeCommands.length ? policy.pipeCommands.join(', ') : 'none configured';
    return errResult(
      'ADM_ERR_VALIDATION',
      `pipe.entry must name an entry of the operator's PIPE allow-list (allowed: ${allowed})`,
      'pipe.entry',
    );
  }
  const timestampProfile = input.timestampProfile ?? 'ETSI_DEFAULT';
  if (!TIMESTAMP_PROFILES.includes(timestampProfile as TimestampProfile)) {
    return errResult(
      'ADM_ERR_VALIDATION',
      `timestampProfile must be one of ${TIMESTAMP_PROFILES.join(', ')} (MILLISECONDS: exactly three fraction digits, for receivers on OpenLI's decoder library)`,
      'timestampProfile',
    );
  }
  const tls = input.tls ?? null;
  const ipsec: IpsecSettings | null = input.ipsec
    ? {
        profile: input.ipsec.profile ?? 'modern',
        gateway: input.ipsec.gateway,
        localAddress: input.ipsec.localAddress ?? null,
        localTs: input.ipsec.localTs,
        remoteTs: input.ipsec.remoteTs,
        localId: input.ipsec.localId ?? null,
        remoteId: input.ipsec.remoteId ?? null,
        pskRef: input.ipsec.pskRef ?? null,
        certRef: input.ipsec.certRef ?? null,
        keyRef: input.ipsec.keyRef ?? null,
        caRef: input.ipsec.caRef ?? null,
      }
    : null;
  // the same rules cc-delivery loads the tunnel by (@li/schemas ipsec.ts)
  const tunnel = ipsecProblem({ address: address.value, ccAddress: cc.value, ipsec });
  if (tunnel) return errResult('ADM_ERR_VALIDATION', `${tunnel.field} ${tunnel.reason}`, tunnel.field);
  // Secrets resolve inside this tenant's own namespace only: a path could reach another tenant's.
  for (const { field, ref } of secretRefsOf({ tls, files, email, ipsec })) {
    if (typeof ref !== 'string' || !isSecretRef(ref)) {
      return errResult(
        'ADM_ERR_VALIDATION',
        `${field} must be the plain name of a secret of this tenant (1-128 of A-Z a-z 0-9 . _ -, not starting with a dot, no "..", no "/")`,
        field,
      );
    }
  }
  const allowInsecure = input.allowInsecure ?? false;
  const plain = plaintextSetting({ transport, tls, files, email, ipsec });
  if (plain && !allowInsecure) {
    return errResult(
      'ADM_ERR_VALIDATION',
      `${plain.reason}: set ${plain.field === 'transport' ? 'another transport' : plain.field}, or allowInsecure: true to accept a plaintext connection`,
      plain.field === 'transport' ? 'allowInsecure' : plain.field,
    );
  }
  const keepalive = input.keepaliveSeconds ?? 30;
  const keepaliveTimeout = input.keepaliveTimeoutSeconds ?? 10;
  if (!Number.isInteger(keepalive) || keepalive < 0 || keepalive > 3600) {
    return errResult('ADM_ERR_VALIDATION', 'keepaliveSeconds must be 0-3600', 'keepaliveSeconds');
  }
  if (!Number.isInteger(keepaliveTimeout) || keepaliveTimeout < 1 || keepaliveTimeout > 3600) {
    return errResult('ADM_ERR_VALIDATION', 'keepaliveTimeoutSeconds must be 1-3600', 'keepaliveTimeoutSeconds');
  }
  return okResult({
    id,
    tenant,
    name: input.name.trim(),
    transport,
    address: address.value,
    ccAddress: cc.value,
    tls,
    keepaliveSeconds: keepalive,
    keepaliveTimeoutSeconds: keepaliveTimeout,
    acknowledged: input.acknowledged ?? false,
    timestampFormat: input.timestampFormat ?? 'GENERALIZED_TIME',
    timestampProfile: timestampProfile as TimestampProfile,
    files: files ? { ...files, hostKeySha256: files.hostKeySha256 ?? null, ...fileSelectionOf(files) } : null,
    email,
    pipe: pipe ? { entry: pipe.entry } : null,
    ipsec,
    allowInsecure,
    enabled: input.enabled ?? true,
    version: previousVersion + 1,
  });
}

/** files.streams and files.format as stored: given, or the defaults (IRI and CC, TS 102 232). */
function fileSelectionOf(files: FileSettings): { streams: FileStream[]; format: FileFormat } {
  const { streams, format } = fileSelection(files);
  return { streams: [...streams], format };
}

/**
 * files.streams: HI2 (IRI) and/or HI3 (CC), each once; files.format: the ONE encoding of the
 * LEMF's files. CC is only ever TS 102 232, so a TS 101 671 LEMF asks for IRI only.
 */
function checkFileSelection(files: FileSettings): Result<void> {
  const streams: unknown = files.streams;
  if (
    streams !== undefined &&
    (!Array.isArray(streams) ||
      streams.length === 0 ||
      new Set(streams).size !== streams.length ||
      !streams.every((s) => FILE_STREAMS.includes(s)))
  ) {
    return errResult(
      'ADM_ERR_VALIDATION',
      `files.streams must list ${FILE_STREAMS.join(' and/or ')}, each at most once`,
      'files.streams',
    );
  }
  if (files.format !== undefined && !FILE_FORMATS.includes(files.format)) {
    return errResult('ADM_ERR_VALIDATION', `files.format must be one of ${FILE_FORMATS.join(', ')}`, 'files.format');
  }
  const { streams: chosen, format } = fileSelection(files);
  if (format === 'TS101671' && chosen.includes('HI3')) {
    return errResult(
      'ADM_ERR_VALIDATION',
      'files.streams must be ["HI2"] with files.format TS101671: CC (HI3) has no TS 101 671 encoding',
      'files.streams',
    );
  }
  return okResult(undefined);
}
