// Warrants: list with filters, create (validation messages next to each field from admf's 400),
// lifecycle, version history. The selected warrant is in-memory state, never in the address.
import { api, Failed, tp, wp } from './api.ts';
import type { Ctx } from './app.ts';
import { clearErrors, field, fieldGroup, formCard, h, input, replace, select, showFieldError } from './dom.ts';
import { type Key, t, time } from './i18n.ts';

interface Target {
  type: string;
  value: string;
  incomplete: boolean;
}
export interface Warrant {
  key: string;
  liid: string;
  authorisationCountry: string;
  courtCaseId: string;
  interceptionKind: string;
  targets: Target[];
  selection: Record<string, boolean>;
  deliver: string;
  lemfIds: string[];
  validFromMicros: number;
  validUntilMicros: number;
  state: string;
  status: string;
  version: number;
  italian: null | {
    proceedingNumber: string;
    ritNumber: string;
    judge: string;
    authorisedOfficers: string[];
    operator: string;
    interceptionType: string | null;
  };
}
interface Version {
  seq: number;
  atMicros: number;
  actor: string;
  action: string;
  reason: string | null;
  after: Warrant | null;
}

/** The nine report kinds of seed 000's Intercept page, in its order. */
export const REPORTS = [
  'login',
  'signals',
  'media',
  'newMail',
  'sentMail',
  'mailbox',
  'access',
  'partial',
  'deletedMail',
] as const;
const STATUSES = ['IN_EFFECT', 'SCHEDULED', 'SUSPENDED', 'ENDED', 'DEACTIVATED'];
const TARGET_TYPES = [
  'E164',
  'IMSI',
  'IMEI',
  'SIP_URI',
  'TEL_URI',
  'EMAIL',
  'MAIL_ACCOUNT',
  'IPV4',
  'IPV6',
  'PROVIDER_ACCOUNT',
  'SIP_INSTANCE',
];
const KINDS = ['VOICE', 'MESSAGING', 'EMAIL', 'DATA', 'MULTIMEDIA'];
const WEEK_MS = 7 * 86_400_000;

/** datetime-local value (the user's zone) → RFC 3339 with the offset. */
function isoOf(local: string): string {
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}
function localInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}

export async function warrantScreen(ctx: Ctx): Promise<void> {
  const [warrants, lemfs] = await Promise.all([
    api<Warrant[]>('GET', `${tp(ctx.tenant)}/warrants`),
    api<{ id: string; name: string }[]>('GET', `${tp(ctx.tenant)}/lemfs`),
  ]);
  const q = input({ type: 'search', 'aria-label': t('search'), placeholder: t('search') });
  const state = select([['', `${t('state')}: ${t('any')}`], ...STATUSES.map((s) => [s, s] as [string, string])], {
    'aria-label': t('state'),
  });
  const ttype = select(
    [['', `${t('targetType')}: ${t('any')}`], ...TARGET_TYPES.map((s) => [s, s] as [string, string])],
    {
      'aria-label': t('targetType'),
    },
  );
  const lemf = select([['', `${t('lemf')}: ${t('any')}`], ...lemfs.map((l) => [l.id, l.name] as [string, string])], {
    'aria-label': t('lemf'),
  });
  const soon = h('input', { type: 'checkbox', id: 'w-soon' });
  const tbody = h('tbody');
  const detail = h('section', { class: 'detail', 'aria-label': t('details') });

  const draw = () => {
    const text = q.value.trim().toLowerCase();
    const now = Date.now();
    const rows = warrants.filter(
      (w) =>
        (!text || w.liid.toLowerCase().includes(text) || w.courtCaseId.toLowerCase().includes(text)) &&
        (!state.value || w.status === state.value) &&
        (!ttype.value || w.targets.some((x) => x.type === ttype.value)) &&
        (!lemf.value || w.lemfIds.includes(lemf.value)) &&
        (!soon.checked || (w.validUntilMicros / 1000 > now && w.validUntilMicros / 1000 - now < WEEK_MS)),
    );
    replace(
      tbody,
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: 7 }, t('noneFound')))
        : rows.map((w) =>
            h(
              'tr',
              {},
              h(
                'td',
                {},
                h(
                  'button',
                  { type: 'button', class: 'link', onclick: () => void showWarrant(ctx, detail, w.key) },
                  w.liid,
                ),
              ),
              h('td', {}, w.authorisationCountry),
              h('td', {}, w.courtCaseId),
              h('td', {}, h('span', { class: `badge s-${w.status}` }, w.status)),
              h('td', {}, w.targets.map((x) => x.type).join(', ')),
              h('td', {}, w.lemfIds.join(', ')),
              h('td', {}, time(w.validUntilMicros / 1000)),
            ),
          ),
    );
  };
  for (const el of [q, state, ttype, lemf, soon]) el.addEventListener('input', draw);
  draw();
  replace(
    ctx.main,
    h('h1', {}, t('warrants')),
    h(
      'div',
      { class: 'filters', role: 'search' },
      q,
      state,
      ttype,
      lemf,
      h('label', { for: 'w-soon' }, soon, ` ${t('expiringSoon')}`),
      ctx.canWrite
        ? h('button', { type: 'button', onclick: () => createForm(ctx, detail, lemfs) }, t('newWarrant'))
        : null,
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
          [t('liid'), t('country'), t('courtCaseId'), t('status'), t('targetType'), t('lemf'), t('validUntil')].map(
            (c) => h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      tbody,
    ),
    detail,
  );
}

function createForm(ctx: Ctx, box: HTMLElement, lemfs: { id: string; name: string }[]): void {
  const liid = input({ maxlength: 25, autocomplete: 'off' });
  const country = input({ maxlength: 2, value: 'IT', autocomplete: 'off' });
  const court = input({ autocomplete: 'off' });
  const kind = select(KINDS);
  const deliver = select(['IRI_AND_CC', 'IRI_ONLY']);
  const from = input({ type: 'datetime-local', value: localInput(Date.now()) });
  const until = input({ type: 'datetime-local', value: localInput(Date.now() + 30 * 86_400_000) });
  const activate = h('input', { type: 'checkbox', checked: true, id: 'w-activate' });
  const targetRows = h('div', { class: 'targets' });
  const addTarget = () => {
    const i = targetRows.children.length;
    const type = select(TARGET_TYPES, { 'aria-label': `${t('targetType')} ${i + 1}` });
    const value = input({ autocomplete: 'off' });
    const inc = h('input', { type: 'checkbox', id: `w-inc-${i}` });
    targetRows.append(
      fieldGroup(
        { legend: `#${i + 1}`, attrs: { class: 'target', 'data-field': `targets[${i}]` } },
        field(t('targetType'), type, `targets[${i}].type`),
        field(t('targetValue'), value, `targets[${i}].value`),
        field(t('incomplete'), inc, `targets[${i}].incomplete`),
      ),
    );
  };
  addTarget();
  const reports = REPORTS.map((r) => h('input', { type: 'checkbox', name: r, id: `w-r-${r}` }));
  const lemfBoxes = lemfs.map((l) => h('input', { type: 'checkbox', value: l.id, id: `w-l-${l.id}` }));
  const it = {
    proceedingNumber: input(),
    ritNumber: input(),
    judge: input(),
    officers: h('textarea', { rows: 2 }),
    operator: input(),
    interceptionType: select(['TELEFONICA', 'TELEMATICA', 'AMBIENTALE']),
  };
  const italian = fieldGroup(
    { legend: t('italian'), errorFor: 'italian', attrs: { 'data-field': 'italian' } },
    field(t('proceedingNumber'), it.proceedingNumber, 'italian.proceedingNumber'),
    field(t('ritNumber'), it.ritNumber, 'italian.ritNumber'),
    field(t('judge'), it.judge, 'italian.judge'),
    field(t('officers'), it.officers, 'italian.authorisedOfficers'),
    field(t('operator'), it.operator, 'italian.operator'),
    field(t('interceptionType'), it.interceptionType, 'italian.interceptionType'),
  );
  const syncItalian = () => {
    italian.hidden = country.value.trim().toUpperCase() !== 'IT';
  };
  country.addEventListener('input', syncItalian);
  syncItalian();

  const form = formCard(
    {
      title: t('newWarrant'),
      submitLabel: t('create'),
      cancelLabel: t('cancel'),
      onSubmit: () => void submit(),
      onCancel: () => replace(box),
    },
    field(t('liid'), liid, 'liid'),
    field(t('country'), country, 'authorisationCountry'),
    field(t('courtCaseId'), court, 'courtCaseId'),
    field(t('kind'), kind, 'interceptionKind'),
    fieldGroup(
      { legend: t('targets') },
      targetRows,
      h('span', { class: 'field-error', 'data-error-for': 'targets' }),
      h('button', { type: 'button', onclick: addTarget }, t('addTarget')),
    ),
    fieldGroup(
      { legend: t('reports'), errorFor: 'selection', attrs: { class: 'reports', 'data-field': 'selection' } },
      reports.map((r) => h('label', { for: r.id }, r, ` ${t(r.name as Key)}`)),
    ),
    field(t('deliver'), deliver, 'deliver'),
    fieldGroup(
      { legend: t('deliverTo'), errorFor: 'lemfIds', attrs: { 'data-field': 'lemfIds' } },
      lemfBoxes.map((b) => h('label', { for: b.id }, b, ` ${b.value}`)),
    ),
    field(t('validFrom'), from, 'validFrom'),
    field(t('validUntil'), until, 'validUntil'),
    h('label', { for: 'w-activate' }, activate, ` ${t('activateNow')}`),
    italian,
  );
  const submit = async () => {
    clearErrors(form);
    const isIt = country.value.trim().toUpperCase() === 'IT';
    const body = {
      liid: liid.value.trim(),
      authorisationCountry: country.value.trim().toUpperCase(),
      courtCaseId: court.value.trim(),
      interceptionKind: kind.value,
      targets: [...targetRows.querySelectorAll('fieldset.target')].map((fs) => {
        const [type, value, inc] = fs.querySelectorAll<HTMLInputElement>('select,input');
        return { type: type!.value, value: value!.value.trim(), ...(inc!.checked ? { incomplete: true } : {}) };
      }),
      selection: Object.fromEntries(reports.map((r) => [r.name, r.checked])),
      deliver: deliver.value,
      lemfIds: lemfBoxes.filter((b) => b.checked).map((b) => b.value),
      validFrom: isoOf(from.value),
      validUntil: isoOf(until.value),
      activate: activate.checked,
      italian: isIt
        ? {
            proceedingNumber: it.proceedingNumber.value.trim(),
            ritNumber: it.ritNumber.value.trim(),
            judge: it.judge.value.trim(),
            authorisedOfficers: it.officers.value
              .split('\n')
              .map((s) => s.trim())
              .filter(Boolean),
            operator: it.operator.value.trim(),
            interceptionType: it.interceptionType.value,
          }
        : null,
    };
    try {
      const w = await api<Warrant>('POST', `${tp(ctx.tenant)}/warrants`, body);
      ctx.flash(`${t('created')}: ${w.liid}`);
      await warrantScreen(ctx);
      const detail = ctx.main.querySelector<HTMLElement>('section.detail');
      if (detail) await showWarrant(ctx, detail, w.key);
    } catch (e) {
      if (e instanceof Failed) showFieldError(form, e.error);
      else throw e;
    }
  };
  replace(box, form);
  liid.focus();
}

async function showWarrant(ctx: Ctx, box: HTMLElement, key: string): Promise<void> {
  const [w, history] = await Promise.all([
    api<Warrant>('GET', wp(ctx.tenant, key)),
    api<Version[]>('POST', `${tp(ctx.tenant)}/warrant-history`, { key }),
  ]);
  const reason = input({ 'aria-label': t('reason') });
  const newEnd = input({
    type: 'datetime-local',
    'aria-label': t('newEnd'),
    value: localInput(w.validUntilMicros / 1000 + 30 * 86_400_000),
  });
  const errBox = h('p', { class: 'field-error', 'data-error-for': 'form', role: 'alert' });
  const act = async (action: string) => {
    const body: Record<string, string> = {};
    if (reason.value.trim()) body.reason = reason.value.trim();
    if (action === 'extend') body.validUntil = isoOf(newEnd.value);
    try {
      await api('POST', `${wp(ctx.tenant, key)}/${action}`, body);
      ctx.flash(`${t(action as Key)}: ${w.liid}`);
      await warrantScreen(ctx);
      const d = ctx.main.querySelector<HTMLElement>('section.detail');
      if (d) await showWarrant(ctx, d, key);
    } catch (e) {
      errBox.textContent = e instanceof Failed ? `${e.error.code}: ${e.error.message}` : String(e);
    }
  };
  const dl = (pairs: [string, Node | string][]) =>
    h(
      'dl',
      {},
      pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    );
  replace(
    box,
    h(
      'article',
      { class: 'card', 'aria-label': w.liid },
      h('h2', {}, `${w.liid} (${w.authorisationCountry})`),
      dl([
        [t('status'), h('span', { class: `badge s-${w.status}` }, w.status)],
        [t('courtCaseId'), w.courtCaseId],
        [t('kind'), w.interceptionKind],
        [t('targets'), w.targets.map((x) => `${x.type} ${x.value}${x.incomplete ? '…' : ''}`).join('; ')],
        [
          t('reports'),
          REPORTS.filter((r) => w.selection[r])
            .map((r) => t(r))
            .join(', ') || '–',
        ],
        [t('deliverTo'), `${w.lemfIds.join(', ')} (${w.deliver})`],
        [t('validFrom'), time(w.validFromMicros / 1000)],
        [t('validUntil'), time(w.validUntilMicros / 1000)],
        [t('version'), String(w.version)],
        ...(w.italian
          ? ([
              [t('proceedingNumber'), w.italian.proceedingNumber],
              [t('ritNumber'), w.italian.ritNumber],
              [t('judge'), w.italian.judge],
              [t('officers'), w.italian.authorisedOfficers.join(', ')],
              [t('operator'), w.italian.operator],
              [t('interceptionType'), w.italian.interceptionType ?? '–'],
            ] as [string, string][])
          : []),
      ]),
      ctx.canWrite
        ? h(
            'div',
            { class: 'lifecycle' },
            h('label', {}, `${t('reason')} `, reason),
            ['activate', 'suspend', 'resume', 'deactivate'].map((a) =>
              h('button', { type: 'button', onclick: () => void act(a) }, t(a as Key)),
            ),
            h('label', {}, `${t('newEnd')} `, newEnd),
            h('button', { type: 'button', onclick: () => void act('extend') }, t('extend')),
            errBox,
          )
        : null,
      h('h3', {}, t('history')),
      h(
        'table',
        { class: 'history' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [t('seq'), t('at'), t('actor'), t('action'), t('state'), t('version'), t('reason')].map((c) =>
              h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          history.map((v) =>
            h(
              'tr',
              {},
              h('td', {}, String(v.seq)),
              h('td', {}, time(v.atMicros / 1000)),
              h('td', {}, v.actor),
              h('td', {}, v.action),
              h('td', {}, v.after?.state ?? '–'),
              h('td', {}, String(v.after?.version ?? '–')),
              h('td', {}, v.reason ?? ''),
            ),
          ),
        ),
      ),
      h('button', { type: 'button', onclick: () => replace(box) }, t('close')),
    ),
  );
  box.querySelector('h2')?.setAttribute('tabindex', '-1');
  (box.querySelector('h2') as HTMLElement | null)?.focus();
}
