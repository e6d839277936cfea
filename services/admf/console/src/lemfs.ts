// LEMFs: every transport's settings, and the live delivery status cc-delivery reports for each
// (admf's /lemf-status reads its metrics), refreshed every few seconds while the screen is open.
import { api, Failed, tp } from './api.ts';
import type { Ctx } from './app.ts';
import { clearErrors, field, fieldGroup, formCard, h, input, replace, select, showFieldError } from './dom.ts';
import { t, time } from './i18n.ts';

type Endpoint = { host: string; port: number } | null;
interface Lemf {
  id: string;
  name: string;
  transport: string;
  address: Endpoint;
  ccAddress: Endpoint;
  tls: { caRef: string | null; certRef: string | null; keyRef: string | null; serverName: string | null } | null;
  keepaliveSeconds: number;
  keepaliveTimeoutSeconds: number;
  acknowledged: boolean;
  timestampProfile: string;
  files: null | {
    directory: string;
    namePattern: string;
    maxRecords: number;
    maxBytes: number;
    maxSeconds: number;
    username: string | null;
    credentialRef: string | null;
    hostKeySha256?: string | null;
    streams?: string[];
    format?: string;
  };
  email: null | {
    from: string;
    to: string[];
    username: string | null;
    credentialRef: string | null;
    startTls: boolean;
  };
  pipe: null | { entry: string };
  allowInsecure: boolean;
  enabled: boolean;
  version: number;
}
interface Status {
  lemfId: string;
  reported: boolean;
  connected: boolean | null;
  recordsSent: number;
  pending: number;
  lagRecords: number | null;
  lastErrorCode: string | null;
  lastErrorAt: number | null;
}

const TRANSPORTS = ['ETSI_TCP', 'HI2_TCP', 'FTP', 'SFTP', 'EMAIL', 'PIPE', 'PKT_CABLE'];
const PROFILES = [
  'ETSI_DEFAULT',
  'MILLISECONDS',
  'MICROSECONDS',
  'WHOLE_SECONDS',
  'GENERALIZED_TIME_MS',
  'MICROSECOND_HEADER_MS',
  'HEADER_TIMESTAMP_ONLY_MS',
];

let timer: number | undefined;

export async function lemfScreen(ctx: Ctx): Promise<void> {
  window.clearInterval(timer);
  const lemfs = await api<Lemf[]>('GET', `${tp(ctx.tenant)}/lemfs`);
  const tbody = h('tbody');
  const sourcesLine = h('p', { class: 'muted', 'aria-live': 'polite' });
  const editor = h('section', { class: 'detail' });
  const drawStatus = async () => {
    if (!ctx.main.isConnected || !ctx.main.contains(tbody)) {
      window.clearInterval(timer);
      return;
    }
    const s = await api<{ sources: { configured: number; reachable: number }; lemfs: Status[] }>(
      'GET',
      `${tp(ctx.tenant)}/lemf-status`,
    ).catch(() => null);
    const by = new Map((s?.lemfs ?? []).map((x) => [x.lemfId, x]));
    sourcesLine.textContent = s ? `${s.sources.reachable}/${s.sources.configured} ${t('sources')}` : '';
    replace(
      tbody,
      lemfs.length === 0
        ? h('tr', {}, h('td', { colspan: 8 }, t('noneFound')))
        : lemfs.map((l) => {
            const st = by.get(l.id);
            const state = !st?.reported ? t('notReported') : st.connected ? t('connected') : t('disconnected');
            return h(
              'tr',
              { 'data-lemf': l.id },
              h(
                'td',
                {},
                ctx.canWrite
                  ? h('button', { type: 'button', class: 'link', onclick: () => editForm(ctx, editor, l) }, l.id)
                  : l.id,
              ),
              h('td', {}, l.name),
              h('td', {}, l.transport, l.allowInsecure ? h('span', { class: 'badge warn' }, ' plaintext') : null),
              h(
                'td',
                { class: `conn ${st?.reported ? (st.connected ? 'ok' : 'bad') : 'unknown'}`, 'data-col': 'state' },
                state,
              ),
              h('td', { 'data-col': 'sent' }, String(st?.recordsSent ?? 0)),
              h(
                'td',
                { 'data-col': 'lag' },
                st?.lagRecords === null || st?.lagRecords === undefined ? '–' : String(st.lagRecords),
              ),
              h('td', {}, String(st?.pending ?? 0)),
              h('td', {}, st?.lastErrorCode ? [st.lastErrorCode, ' ', time(st.lastErrorAt)] : '–'),
            );
          }),
    );
  };
  replace(
    ctx.main,
    h('h1', {}, t('lemfs')),
    h(
      'div',
      { class: 'filters' },
      ctx.canWrite ? h('button', { type: 'button', onclick: () => editForm(ctx, editor, null) }, t('newLemf')) : null,
      h('button', { type: 'button', onclick: () => void drawStatus() }, t('refresh')),
      ctx.canWrite ? null : h('span', { class: 'muted' }, t('readOnly')),
    ),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          [
            t('id'),
            t('name'),
            t('transport'),
            t('status'),
            t('recordsSent'),
            t('lag'),
            t('pending'),
            t('lastError'),
          ].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      tbody,
    ),
    sourcesLine,
    editor,
  );
  await drawStatus();
  timer = window.setInterval(() => void drawStatus(), 3000);
}

const num = (v: string): number | undefined => (v.trim() === '' ? undefined : Number(v));
const str = (v: string): string | null => (v.trim() === '' ? null : v.trim());

function editForm(ctx: Ctx, box: HTMLElement, l: Lemf | null): void {
  const id = input({ value: l?.id ?? '', disabled: l !== null, autocomplete: 'off' });
  const name = input({ value: l?.name ?? '' });
  const transport = select(TRANSPORTS);
  transport.value = l?.transport ?? 'ETSI_TCP';
  const host = input({ value: l?.address?.host ?? '' });
  const port = input({ type: 'number', value: l?.address?.port ?? '' });
  const ccHost = input({ value: l?.ccAddress?.host ?? '' });
  const ccPort = input({ type: 'number', value: l?.ccAddress?.port ?? '' });
  const tls = {
    ca: input({ value: l?.tls?.caRef ?? '' }),
    cert: input({ value: l?.tls?.certRef ?? '' }),
    key: input({ value: l?.tls?.keyRef ?? '' }),
    sn: input({ value: l?.tls?.serverName ?? '' }),
  };
  const keepalive = input({ type: 'number', value: l?.keepaliveSeconds ?? '' });
  const keepaliveTimeout = input({ type: 'number', value: l?.keepaliveTimeoutSeconds ?? '' });
  const acknowledged = h('input', { type: 'checkbox', checked: l?.acknowledged ?? false });
  const profile = select(PROFILES);
  profile.value = l?.timestampProfile ?? 'ETSI_DEFAULT';
  const f = {
    directory: input({ value: l?.files?.directory ?? '/' }),
    namePattern: input({ value: l?.files?.namePattern ?? '' }),
    maxRecords: input({ type: 'number', value: l?.files?.maxRecords ?? 1000 }),
    maxBytes: input({ type: 'number', value: l?.files?.maxBytes ?? 10_000_000 }),
    maxSeconds: input({ type: 'number', value: l?.files?.maxSeconds ?? 60 }),
    username: input({ value: l?.files?.username ?? '' }),
    credentialRef: input({ value: l?.files?.credentialRef ?? '' }),
    hostKey: input({ value: l?.files?.hostKeySha256 ?? '' }),
    streams: select(['HI2,HI3', 'HI2', 'HI3']),
    format: select(['TS102232', 'TS101671']),
  };
  f.streams.value = (l?.files?.streams ?? ['HI2', 'HI3']).join(',');
  f.format.value = l?.files?.format ?? 'TS102232';
  const e = {
    from: input({ value: l?.email?.from ?? '' }),
    to: input({ value: l?.email?.to.join(', ') ?? '' }),
    username: input({ value: l?.email?.username ?? '' }),
    credentialRef: input({ value: l?.email?.credentialRef ?? '' }),
    startTls: h('input', { type: 'checkbox', checked: l?.email?.startTls ?? true }),
  };
  const pipeEntry = input({ value: l?.pipe?.entry ?? '' });
  const allowInsecure = h('input', { type: 'checkbox', checked: l?.allowInsecure ?? false });
  const enabled = h('input', { type: 'checkbox', checked: l?.enabled ?? true });

  const groups = {
    address: fieldGroup(
      { legend: 'address', errorFor: 'address' },
      field(t('host'), host, 'address.host'),
      field(t('port'), port, 'address.port'),
    ),
    cc: fieldGroup(
      { legend: 'ccAddress', errorFor: 'ccAddress' },
      field(t('ccHost'), ccHost, 'ccAddress.host'),
      field(t('ccPort'), ccPort, 'ccAddress.port'),
    ),
    tcp: fieldGroup(
      { legend: 'TLS / TCP' },
      field(t('tlsCa'), tls.ca, 'tls.caRef'),
      field(t('tlsCert'), tls.cert, 'tls.certRef'),
      field(t('tlsKey'), tls.key, 'tls.keyRef'),
      field(t('tlsServerName'), tls.sn, 'tls.serverName'),
      h('span', { class: 'field-error', 'data-error-for': 'tls' }),
      field(t('keepalive'), keepalive, 'keepaliveSeconds'),
      field(t('keepaliveTimeout'), keepaliveTimeout, 'keepaliveTimeoutSeconds'),
      field(t('acknowledged'), acknowledged, 'acknowledged'),
      field(t('timestampProfile'), profile, 'timestampProfile'),
    ),
    files: fieldGroup(
      { legend: 'files' },
      field(t('directory'), f.directory, 'files.directory'),
      field(t('namePattern'), f.namePattern, 'files.namePattern'),
      field(t('maxRecords'), f.maxRecords, 'files.maxRecords'),
      field(t('maxBytes'), f.maxBytes, 'files.maxBytes'),
      field(t('maxSeconds'), f.maxSeconds, 'files.maxSeconds'),
      field(t('username'), f.username, 'files.username'),
      field(t('credentialRef'), f.credentialRef, 'files.credentialRef'),
      field(t('hostKey'), f.hostKey, 'files.hostKeySha256'),
      field(t('streams'), f.streams, 'files.streams'),
      field(t('format'), f.format, 'files.format'),
    ),
    email: fieldGroup(
      { legend: 'email' },
      field(t('from'), e.from, 'email.from'),
      field(t('to'), e.to, 'email.to'),
      field(t('username'), e.username, 'email.username'),
      field(t('credentialRef'), e.credentialRef, 'email.credentialRef'),
      field(t('startTls'), e.startTls, 'email.startTls'),
    ),
    pipe: fieldGroup({ legend: 'pipe' }, field(t('pipeEntry'), pipeEntry, 'pipe.entry')),
  };
  const sync = () => {
    const tr = transport.value;
    groups.address.hidden = tr === 'PIPE';
    groups.cc.hidden = tr !== 'ETSI_TCP';
    groups.tcp.hidden = tr !== 'ETSI_TCP' && tr !== 'HI2_TCP';
    groups.files.hidden = tr !== 'FTP' && tr !== 'SFTP';
    groups.email.hidden = tr !== 'EMAIL';
    groups.pipe.hidden = tr !== 'PIPE';
  };
  transport.addEventListener('change', sync);
  sync();

  const form = formCard(
    {
      title: l ? `${t('edit')} ${l.id}` : t('newLemf'),
      submitLabel: t('save'),
      cancelLabel: t('cancel'),
      onSubmit: () => void submit(),
      onCancel: () => replace(box),
    },
    field(t('id'), id, 'id'),
    field(t('name'), name, 'name'),
    field(t('transport'), transport, 'transport'),
    Object.values(groups),
    field(t('allowInsecure'), allowInsecure, 'allowInsecure'),
    field(t('enabled'), enabled, 'enabled'),
  );
  const submit = async () => {
    clearErrors(form);
    const tr = transport.value;
    const endpoint = (hh: HTMLInputElement, pp: HTMLInputElement) =>
      hh.value.trim() === '' && pp.value.trim() === '' ? null : { host: hh.value.trim(), port: num(pp.value) ?? 0 };
    const tcp = tr === 'ETSI_TCP' || tr === 'HI2_TCP';
    const tlsRefs = {
      caRef: str(tls.ca.value),
      certRef: str(tls.cert.value),
      keyRef: str(tls.key.value),
      serverName: str(tls.sn.value),
    };
    const body: Record<string, unknown> = {
      name: name.value.trim(),
      transport: tr,
      address: tr === 'PIPE' ? null : endpoint(host, port),
      ccAddress: tr === 'ETSI_TCP' ? endpoint(ccHost, ccPort) : null,
      tls: tcp && Object.values(tlsRefs).some((v) => v !== null) ? tlsRefs : null,
      ...(tcp && num(keepalive.value) !== undefined ? { keepaliveSeconds: num(keepalive.value) } : {}),
      ...(tcp && num(keepaliveTimeout.value) !== undefined
        ? { keepaliveTimeoutSeconds: num(keepaliveTimeout.value) }
        : {}),
      ...(tcp ? { acknowledged: acknowledged.checked, timestampProfile: profile.value } : {}),
      files:
        tr === 'FTP' || tr === 'SFTP'
          ? {
              directory: f.directory.value.trim(),
              namePattern: f.namePattern.value.trim(),
              maxRecords: num(f.maxRecords.value) ?? 0,
              maxBytes: num(f.maxBytes.value) ?? 0,
              maxSeconds: num(f.maxSeconds.value) ?? 0,
              username: str(f.username.value),
              credentialRef: str(f.credentialRef.value),
              hostKeySha256: tr === 'SFTP' ? str(f.hostKey.value) : null,
              streams: f.streams.value.split(','),
              format: f.format.value,
            }
          : null,
      email:
        tr === 'EMAIL'
          ? {
              from: e.from.value.trim(),
              to: e.to.value
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
              username: str(e.username.value),
              credentialRef: str(e.credentialRef.value),
              startTls: e.startTls.checked,
            }
          : null,
      pipe: tr === 'PIPE' ? { entry: pipeEntry.value.trim() } : null,
      allowInsecure: allowInsecure.checked,
      enabled: enabled.checked,
    };
    const lemfId = id.value.trim();
    if (!lemfId) {
      showFieldError(form, { field: 'id', message: 'required' });
      return;
    }
    try {
      await api('PUT', `${tp(ctx.tenant)}/lemfs/${encodeURIComponent(lemfId)}`, body);
      ctx.flash(`${t('saved')}: ${lemfId}`);
      await lemfScreen(ctx);
    } catch (err) {
      if (err instanceof Failed) showFieldError(form, err.error);
      else throw err;
    }
  };
  replace(box, form);
  (l ? name : id).focus();
}
