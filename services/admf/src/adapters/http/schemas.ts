// Request/response schemas (TypeBox = JSON Schema): Fastify validates with them, serialises
// with them, and @fastify/swagger publishes them at /openapi.json. Structural checks live here;
// the meaning of values (LIID rules, identifiers, windows) is checked in src/domain.
import {
  FILE_FORMATS,
  FILE_STREAMS,
  IDENTIFIER_TYPES,
  ITALIAN_INTERCEPTION_TYPES,
  LEMF_TRANSPORTS,
  TIMESTAMP_PROFILES,
} from '@li/schemas';
import { Type } from 'typebox';
import { HOST_KEY_SHA256_PATTERN } from '../../domain/lemf.ts';
import {
  DELIVERY_SCOPES,
  INTERCEPTION_KINDS,
  MAX_LEMFS,
  MAX_SUPPORT_LINES,
  MAX_TARGETS,
} from '../../domain/warrant.ts';

const closed = { additionalProperties: false } as const;
const Micros = Type.Integer({ description: 'microseconds since 1970-01-01T00:00:00Z' });
const DateTime = Type.String({
  format: 'date-time',
  description: 'RFC 3339 date-time with offset, e.g. 2026-12-01T00:00:00Z',
});

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      field: Type.Optional(Type.String({ description: 'path of the faulty input field, e.g. targets[1].value' })),
    }),
  },
  { $id: 'Error' },
);

export const TenantParams = Type.Object({ tenantId: Type.String({ maxLength: 64 }) });
export const LemfParams = Type.Object({
  tenantId: Type.String({ maxLength: 64 }),
  lemfId: Type.String({ maxLength: 64 }),
});
export const WarrantParams = Type.Object({
  tenantId: Type.String({ maxLength: 64 }),
  country: Type.String({ maxLength: 2, description: 'authorising country (ISO 3166-1 alpha-2)' }),
  liid: Type.String({ maxLength: 25 }),
});

export const TenantInput = Type.Object(
  {
    id: Type.String({
      pattern: '^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$',
      description: 'becomes part of topic names li.<id>.*',
    }),
    name: Type.String({ minLength: 1, maxLength: 128 }),
    defaultCountryCode: Type.String({ pattern: '^[1-9][0-9]{0,2}$', description: 'for national numbers, e.g. 39' }),
    nationalTrunkPrefix: Type.Optional(Type.Union([Type.Null(), Type.String({ pattern: '^[0-9]{1,2}$' })])),
  },
  closed,
);
/** PATCH /tenants/{id}: the settings to change; the id is fixed (it names the tenant's topics). */
export const TenantPatch = Type.Object(
  {
    name: Type.Optional(TenantInput.properties.name),
    defaultCountryCode: Type.Optional(TenantInput.properties.defaultCountryCode),
    nationalTrunkPrefix: TenantInput.properties.nationalTrunkPrefix,
  },
  { ...closed, minProperties: 1 },
);
export const TenantBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  defaultCountryCode: Type.String(),
  nationalTrunkPrefix: Type.Union([Type.Null(), Type.String()]),
  version: Type.Integer(),
  createdAtMicros: Micros,
});

const Endpoint = Type.Object(
  { host: Type.String({ minLength: 1, maxLength: 253 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
  closed,
);
const NullableStr = Type.Union([Type.Null(), Type.String()]);
const Tls = Type.Object(
  { caRef: NullableStr, certRef: NullableStr, keyRef: NullableStr, serverName: NullableStr },
  closed,
);
const Files = Type.Object(
  {
    directory: Type.String(),
    namePattern: Type.String(),
    maxRecords: Type.Integer(),
    maxBytes: Type.Integer(),
    maxSeconds: Type.Integer(),
    username: NullableStr,
    credentialRef: NullableStr,
    hostKeySha256: Type.Optional(
      Type.Union([
        Type.Null(),
        Type.String({
          pattern: HOST_KEY_SHA256_PATTERN.source,
          description:
            'SFTP: pin the server host key; its OpenSSH fingerprint SHA256:<43 base64 characters> (prefix optional)',
        }),
      ]),
    ),
    streams: Type.Optional(
      Type.Array(Type.Enum([...FILE_STREAMS]), {
        minItems: 1,
        maxItems: FILE_STREAMS.length,
        uniqueItems: true,
        description: 'what the files hold: ["HI2"] IRI only, ["HI3"] CC only, or both (default)',
      }),
    ),
    format: Type.Optional(
      Type.Enum([...FILE_FORMATS], {
        description:
          'the one encoding of the files (default TS102232: every IRI and CC); TS101671: IRI only, needs streams ["HI2"]',
      }),
    ),
  },
  closed,
);
const Email = Type.Object(
  {
    from: Type.String(),
    to: Type.Array(Type.String()),
    username: NullableStr,
    credentialRef: NullableStr,
    startTls: Type.Boolean(),
  },
  closed,
);
const Pipe = Type.Object(
  {
    entry: Type.String({
      minLength: 1,
      maxLength: 64,
      description:
        "name of an entry of the operator's PIPE allow-list (admf pipeCommands); the command is the operator's",
    }),
  },
  closed,
);
const Ipsec = Type.Object(
  {
    profile: Type.Optional(
      Type.String({
        description:
          'it-annex2: IKEv1 main mode, PSK, aes128-sha1-modp1024, IKE SA 86400 s, ESP tunnel aes128-sha1, no PFS (seed 001 Annex 2); modern (default): IKEv2, AES-GCM-256, ECP-256/X25519, certificates',
      }),
    ),
    gateway: Type.String({ description: "the LEMF's IPsec gateway (IKE peer) address or host name" }),
    localAddress: Type.Optional(NullableStr),
    localTs: Type.Array(Type.String(), { description: 'our traffic selectors, CIDR' }),
    remoteTs: Type.Array(Type.String(), {
      description: "the LEMF's traffic selectors, CIDR; its addresses must lie inside",
    }),
    localId: Type.Optional(NullableStr),
    remoteId: Type.Optional(NullableStr),
    pskRef: Type.Optional(NullableStr),
    certRef: Type.Optional(NullableStr),
    keyRef: Type.Optional(NullableStr),
    caRef: Type.Optional(NullableStr),
  },
  closed,
);
const AllowInsecure = Type.Boolean({
  description:
    'accept a plaintext transport: FTP, PKT_CABLE (UDP), ETSI_TCP/HI2_TCP without tls, EMAIL without startTls, SFTP without files.hostKeySha256 (default false: refused)',
});
const nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([Type.Null(), t]);

export const LemfInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128 }),
    transport: Type.Enum([...LEMF_TRANSPORTS]),
    address: Type.Optional(nullable(Endpoint)),
    ccAddress: Type.Optional(nullable(Endpoint)),
    tls: Type.Optional(nullable(Tls)),
    keepaliveSeconds: Type.Optional(Type.Integer()),
    keepaliveTimeoutSeconds: Type.Optional(Type.Integer()),
    acknowledged: Type.Optional(Type.Boolean()),
    timestampFormat: Type.Optional(
      Type.Enum(['GENERALIZED_TIME', 'MICROSECOND'], {
        description: 'superseded by timestampProfile: stored, and has no effect on delivery',
      }),
    ),
    timestampProfile: Type.Optional(
      Type.String({
        description: `how the LEMF's PDUs write their times (header time fields, GeneralizedTime fraction digits, qualifier), one of ${TIMESTAMP_PROFILES.join(', ')}; default ETSI_DEFAULT (records as encoded). MILLISECONDS writes exactly three fraction digits, for receivers on OpenLI's decoder library`,
      }),
    ),
    files: Type.Optional(nullable(Files)),
    email: Type.Optional(nullable(Email)),
    pipe: Type.Optional(nullable(Pipe)),
    ipsec: Type.Optional(nullable(Ipsec)),
    allowInsecure: Type.Optional(AllowInsecure),
    enabled: Type.Optional(Type.Boolean()),
  },
  closed,
);
export const LemfBody = Type.Object({
  id: Type.String(),
  tenant: Type.String(),
  name: Type.String(),
  transport: Type.String(),
  address: nullable(Endpoint),
  ccAddress: nullable(Endpoint),
  tls: nullable(Tls),
  keepaliveSeconds: Type.Integer(),
  keepaliveTimeoutSeconds: Type.Integer(),
  acknowledged: Type.Boolean(),
  timestampFormat: Type.String(),
  timestampProfile: Type.String(),
  files: nullable(Files),
  email: nullable(Email),
  pipe: nullable(Pipe),
  ipsec: nullable(Ipsec),
  allowInsecure: AllowInsecure,
  enabled: Type.Boolean(),
  version: Type.Integer(),
});

const TargetInput = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
    type: Type.Enum([...IDENTIFIER_TYPES]),
    value: Type.String({ minLength: 1, maxLength: 512 }),
    incomplete: Type.Optional(
      Type.Boolean({
        description:
          'E164 only: value is an incomplete number (numero incompleto, seed 001 Art. 9 c.1 e) matching every number that starts with it; at least 8 digits with the country code',
      }),
    ),
  },
  closed,
);
const Italian = Type.Object(
  {
    proceedingNumber: Type.String({ minLength: 1, maxLength: 64, description: 'numero del procedimento penale' }),
    ritNumber: Type.String({ minLength: 1, maxLength: 64, description: 'registro intercettazioni (RIT)' }),
    judge: Type.String({ minLength: 1, maxLength: 256 }),
    authorisedOfficers: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 64 }),
    operator: Type.String({ minLength: 1, maxLength: 256 }),
    interceptionType: Type.Enum([...ITALIAN_INTERCEPTION_TYPES], {
      description: 'tipologia (seed 001 Art. 9 c.1 a): telefonica, telematica, ambientale',
    }),
  },
  closed,
);
export const TechnicalDataInput = Type.Object(
  {
    supportServer: Type.String({ minLength: 1, maxLength: 256, description: 'server di appoggio' }),
    listeningSessionNumber: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'numero della sessione di ascolto',
    }),
    addressBook: Type.String({ minLength: 1, maxLength: 256, description: 'rubrica associata' }),
    supportLines: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), {
      minItems: 1,
      maxItems: MAX_SUPPORT_LINES,
      description: "linee d'appoggio",
    }),
    ftpServerAddress: Type.String({
      minLength: 1,
      maxLength: 512,
      description: 'indirizzo del server FTP: ftp://, ftps:// or sftp:// URL without credentials',
    }),
  },
  closed,
);
const TechnicalDataBody = Type.Object({
  supportServer: Type.String(),
  listeningSessionNumber: Type.String(),
  addressBook: Type.String(),
  supportLines: Type.Array(Type.String()),
  ftpServerAddress: Type.String(),
  recordedAtMicros: Type.Integer(),
});
const flags = {
  login: Type.Boolean(),
  signals: Type.Boolean(),
  media: Type.Boolean(),
  newMail: Type.Boolean(),
  sentMail: Type.Boolean(),
  mailbox: Type.Boolean(),
  access: Type.Boolean(),
  partial: Type.Boolean(),
  deletedMail: Type.Boolean(),
};
const SelectionInput = Type.Partial(Type.Object(flags), closed);

const warrantFields = {
  courtCaseId: Type.String({ minLength: 1, maxLength: 128 }),
  italian: nullable(Italian),
  interceptionKind: Type.Enum([...INTERCEPTION_KINDS]),
  targets: Type.Array(TargetInput, { minItems: 1, maxItems: MAX_TARGETS }),
  selection: SelectionInput,
  deliver: Type.Enum([...DELIVERY_SCOPES]),
  lemfIds: Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: MAX_LEMFS }),
  validFrom: DateTime,
  validUntil: DateTime,
};

export const WarrantCreate = Type.Object(
  {
    liid: Type.String({ pattern: '^[A-Za-z0-9]{1,25}$', description: '1-25 letters or digits' }),
    authorisationCountry: Type.String({ pattern: '^[A-Z]{2}$' }),
    ...warrantFields,
    italian: Type.Optional(nullable(Italian)),
    activate: Type.Optional(Type.Boolean({ description: 'false stages the warrant DEACTIVATED (default true)' })),
  },
  closed,
);
export const WarrantModify = Type.Partial(Type.Object(warrantFields), closed);
export const LifecycleBody = Type.Object(
  {
    validUntil: Type.Optional(DateTime),
    reason: Type.Optional(Type.String({ maxLength: 512 })),
  },
  closed,
);

export const TransferInput = Type.Object(
  {
    toTenant: Type.String({ minLength: 1, maxLength: 32, description: 'the tenant the number moved to' }),
    lemfIds: Type.Optional(
      Type.Array(Type.String(), { description: "the new tenant's LEMF destinations; default: the same ids" }),
    ),
  },
  closed,
);

export const WarrantBody = Type.Object({
  key: Type.String({ description: '<country>:<LIID>' }),
  liid: Type.String(),
  tenant: Type.String(),
  authorisationCountry: Type.String(),
  courtCaseId: Type.String(),
  italian: nullable(
    Type.Object({
      proceedingNumber: Type.String(),
      ritNumber: Type.String(),
      judge: Type.String(),
      authorisedOfficers: Type.Array(Type.String()),
      operator: Type.String(),
      interceptionType: NullableStr,
      technicalData: nullable(TechnicalDataBody),
    }),
  ),
  interceptionKind: Type.String(),
  targets: Type.Array(
    Type.Object({ id: Type.String(), type: Type.String(), value: Type.String(), incomplete: Type.Boolean() }),
  ),
  selection: Type.Object(flags),
  deliver: Type.String(),
  lemfIds: Type.Array(Type.String()),
  validFromMicros: Micros,
  validUntilMicros: Micros,
  validFrom: Type.String(),
  validUntil: Type.String(),
  state: Type.String(),
  status: Type.String({ description: 'SCHEDULED | IN_EFFECT | SUSPENDED | ENDED | DEACTIVATED, now' }),
  version: Type.Integer(),
  updatedAtMicros: Micros,
});

/** Both sides of a transfer: the old tenant's warrant (DEACTIVATED) and the new tenant's. */
export const TransferBody = Type.Object({ from: WarrantBody, to: WarrantBody });

export const AuditBody = Type.Object({
  tenant: Type.String(),
  seq: Type.Integer(),
  atMicros: Micros,
  actor: Type.String(),
  role: Type.String(),
  action: Type.String(),
  objectType: Type.String(),
  objectId: Type.String(),
  before: NullableStr,
  after: NullableStr,
  reason: NullableStr,
  prevHash: Type.String(),
  hash: Type.String(),
});
export const AuditQuery = Type.Object(
  {
    afterSeq: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  },
  closed,
);
export const VerifyQuery = Type.Object(
  {
    headSeq: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
    headHash: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
  },
  closed,
);
export const VerifyBody = Type.Object({
  ok: Type.Boolean(),
  count: Type.Integer(),
  head: Type.Optional(nullable(Type.Object({ seq: Type.Integer(), hash: Type.String() }))),
  index: Type.Optional(Type.Integer()),
  seq: Type.Optional(nullable(Type.Integer())),
  reason: Type.Optional(Type.String()),
});

export const BillingQuery = Type.Object(
  {
    from: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'first local date (inclusive)' }),
    to: Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'last local date (inclusive)' }),
  },
  closed,
);
const Cents = Type.Integer({ description: 'amount in the smallest currency unit (cents)' });
const AuditSeqs = Type.Array(Type.Integer(), { description: 'audit seq numbers this is computed from' });
export const BillingBody = Type.Object({
  tenant: Type.String(),
  currency: Type.String(),
  timeZone: Type.String(),
  fromDate: Type.String(),
  toDate: Type.String(),
  asOfMicros: Type.Integer({ description: 'open warrants are billed up to this instant (microseconds)' }),
  priceListSource: Type.String(),
  items: Type.Array(
    Type.Object({
      liid: Type.String(),
      authorisationCountry: Type.String(),
      service: Type.String({ description: 'price list row code' }),
      label: Type.String(),
      section: Type.String({ description: 'where the price is in seed 001 Allegato 3' }),
      basis: Type.Union([
        Type.Literal('days'),
        Type.Literal('units'),
        Type.Literal('request'),
        Type.Literal('out-of-hours'),
      ]),
      quantity: Type.Integer(),
      lines: Type.Integer(),
      unitMinor: Cents,
      amountMinor: Cents,
      firstDay: NullableStr,
      lastDay: NullableStr,
      auditSeqs: AuditSeqs,
    }),
  ),
  unpriced: Type.Array(
    Type.Object({
      liid: Type.String(),
      authorisationCountry: Type.String(),
      service: NullableStr,
      reason: Type.String(),
      auditSeqs: AuditSeqs,
    }),
  ),
  byService: Type.Array(Type.Object({ service: Type.String(), amountMinor: Cents })),
  totalMinor: Cents,
  inputs: Type.Object({ auditSeqs: AuditSeqs, auditHeadSeq: Type.Integer() }),
});
export const BillingOrderInput = Type.Object(
  {
    service: Type.String({ maxLength: 64, description: 'price list row code, e.g. MULTI_ISDN, LOCATION_HLR' }),
    lines: Type.Optional(Type.Integer({ minimum: 1, description: 'lines of a multi-line or GNR target' })),
    units: Type.Optional(Type.Integer({ minimum: 1, description: "'tab./numero' of traffic documentation" })),
  },
  closed,
);
