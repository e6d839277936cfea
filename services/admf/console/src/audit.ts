// Audit: the tenant's trail with filters, the chain verification verdict, export (JSON, CSV).
import { api, tp } from './api.ts';
import type { Ctx } from './app.ts';
import { download, h, input, replace, select } from './dom.ts';
import { t, time } from './i18n.ts';

interface AuditRecord {
  seq: number;
  atMicros: number;
  actor: string;
  role: string;
  action: string;
  objectType: string;
  objectId: string;
  reason: string | null;
  prevHash: string;
  hash: string;
  before: string | null;
  after: string | null;
}
type Verdict =
  | { ok: true; count: number; head?: { seq: number; hash: string } | null }
  | { ok: false; count: number; index?: number; seq?: number | null; reason?: string };

export const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  // A leading = + - @ would be a formula in a spreadsheet: quote it as text.
  const safe = /^[=+\-@]/.test(s) ? `'${s}` : s;
  return /[",\n;]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

async function loadAll(tenant: string): Promise<AuditRecord[]> {
  const all: AuditRecord[] = [];
  for (;;) {
    const page = await api<AuditRecord[]>('GET', `${tp(tenant)}/audit?afterSeq=${all.at(-1)?.seq ?? 0}&limit=5000`);
    all.push(...page);
    if (page.length < 5000) return all;
  }
}

export async function auditScreen(ctx: Ctx): Promise<void> {
  const records = await loadAll(ctx.tenant);
  const actions = [...new Set(records.map((r) => r.action))].sort();
  const actors = [...new Set(records.map((r) => r.actor))].sort();
  const action = select([['', `${t('action')}: ${t('any')}`], ...actions.map((a) => [a, a] as [string, string])], {
    'aria-label': t('action'),
  });
  const actor = select([['', `${t('actor')}: ${t('any')}`], ...actors.map((a) => [a, a] as [string, string])], {
    'aria-label': t('actor'),
  });
  const obj = input({ type: 'search', placeholder: t('object'), 'aria-label': t('object') });
  const from = input({ type: 'date', 'aria-label': t('fromDate') });
  const to = input({ type: 'date', 'aria-label': t('toDate') });
  const verdict = h('div', { class: 'verdict', role: 'status', 'aria-live': 'polite' });
  const tbody = h('tbody');
  const filtered = () =>
    records.filter((r) => {
      const ms = r.atMicros / 1000;
      return (
        (!action.value || r.action === action.value) &&
        (!actor.value || r.actor === actor.value) &&
        (!obj.value.trim() || r.objectId.toLowerCase().includes(obj.value.trim().toLowerCase())) &&
        (!from.value || ms >= new Date(`${from.value}T00:00`).getTime()) &&
        (!to.value || ms < new Date(`${to.value}T00:00`).getTime() + 86_400_000)
      );
    });
  const draw = () =>
    replace(
      tbody,
      filtered().map((r) =>
        h(
          'tr',
          {},
          h('td', {}, String(r.seq)),
          h('td', {}, time(r.atMicros / 1000)),
          h('td', {}, `${r.actor} (${r.role})`),
          h('td', {}, r.action),
          h('td', {}, `${r.objectType} ${r.objectId}`),
          h('td', {}, r.reason ?? ''),
          h('td', { class: 'hash', title: r.hash }, r.hash.slice(0, 12)),
        ),
      ),
    );
  for (const el of [action, actor, obj, from, to]) el.addEventListener('input', draw);
  draw();
  const verify = async () => {
    const v = await api<Verdict>('GET', `${tp(ctx.tenant)}/audit/verify`);
    verdict.className = v.ok ? 'verdict ok' : 'verdict bad';
    replace(
      verdict,
      v.ok
        ? `✔ ${t('chainOk')}: ${v.count} ${t('records')}${v.head ? `, ${t('head')} ${v.head.seq} ${v.head.hash}` : ''}`
        : `✘ ${t('chainBroken')}: ${v.reason ?? ''} seq ${v.seq ?? '?'} (${v.count} ${t('records')})`,
    );
  };
  const exportCsv = () => {
    const cols = [
      'seq',
      'atMicros',
      'actor',
      'role',
      'action',
      'objectType',
      'objectId',
      'reason',
      'prevHash',
      'hash',
    ] as const;
    const lines = [cols.join(','), ...filtered().map((r) => cols.map((c) => csvCell(r[c])).join(','))];
    download(`audit-${ctx.tenant}.csv`, 'text/csv', `${lines.join('\r\n')}\r\n`);
  };
  replace(
    ctx.main,
    h('h1', {}, t('audit')),
    h('p', { class: 'muted' }, t('readOnly')),
    h(
      'div',
      { class: 'filters', role: 'search' },
      action,
      actor,
      obj,
      from,
      to,
      h('button', { type: 'button', onclick: () => void verify() }, t('verify')),
      // The full records, with before/after, so the chain can be re-verified elsewhere.
      h(
        'button',
        {
          type: 'button',
          onclick: () => download(`audit-${ctx.tenant}.json`, 'application/json', JSON.stringify(records, null, 1)),
        },
        t('exportJson'),
      ),
      h('button', { type: 'button', onclick: exportCsv }, t('exportCsv')),
    ),
    verdict,
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          [t('seq'), t('at'), t('actor'), t('action'), t('object'), t('reason'), 'hash'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      tbody,
    ),
  );
}
