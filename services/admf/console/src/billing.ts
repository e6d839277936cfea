// Billing: the invoice admf computes from the audit trail and the Annex 3 price list, per tenant
// and period; CSV export and a printable page (the browser's print, with print styles).
import { api, tp } from './api.ts';
import type { Ctx } from './app.ts';
import { csvCell } from './audit.ts';
import { download, field, h, input, replace } from './dom.ts';
import { money, t } from './i18n.ts';

interface Invoice {
  tenant: string;
  currency: string;
  timeZone: string;
  fromDate: string;
  toDate: string;
  items: {
    liid: string;
    authorisationCountry: string;
    service: string;
    label: string;
    section: string;
    basis: string;
    quantity: number;
    lines: number;
    unitMinor: number;
    amountMinor: number;
    firstDay: string | null;
    lastDay: string | null;
    auditSeqs: number[];
  }[];
  unpriced: { liid: string; authorisationCountry: string; service: string | null; reason: string }[];
  totalMinor: number;
}

const ymd = (d: Date) => d.toISOString().slice(0, 10);

export async function billingScreen(ctx: Ctx): Promise<void> {
  const now = new Date();
  const from = input({ type: 'date', value: ymd(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1))) });
  const to = input({ type: 'date', value: ymd(now) });
  const out = h('section', { class: 'invoice' });
  const err = h('p', { class: 'field-error', 'data-error-for': 'form', role: 'alert' });
  let inv: Invoice | null = null;
  const show = async () => {
    err.textContent = '';
    try {
      inv = await api<Invoice>('GET', `${tp(ctx.tenant)}/billing?from=${from.value}&to=${to.value}`);
    } catch (e) {
      err.textContent = (e as Error).message;
      return;
    }
    const i = inv;
    replace(
      out,
      h('h2', {}, `${i.tenant} · ${i.fromDate} – ${i.toDate} (${i.timeZone})`),
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            [t('liid'), t('service'), t('section'), t('days'), t('quantity'), t('lines'), t('unit'), t('amount')].map(
              (c) => h('th', { scope: 'col' }, c),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          i.items.map((x) =>
            h(
              'tr',
              {},
              h('td', {}, `${x.authorisationCountry}:${x.liid}`),
              h('td', {}, x.label),
              h('td', {}, x.section),
              h('td', {}, x.firstDay ? `${x.firstDay} – ${x.lastDay}` : ''),
              h('td', { class: 'num' }, String(x.quantity)),
              h('td', { class: 'num' }, String(x.lines)),
              h('td', { class: 'num' }, money(x.unitMinor, i.currency)),
              h('td', { class: 'num' }, money(x.amountMinor, i.currency)),
            ),
          ),
        ),
        h(
          'tfoot',
          {},
          h(
            'tr',
            {},
            h('th', { colspan: 7, scope: 'row' }, t('total')),
            h('td', { class: 'num total' }, money(i.totalMinor, i.currency)),
          ),
        ),
      ),
      i.unpriced.length
        ? [
            h('h3', {}, t('unpriced')),
            h(
              'ul',
              {},
              i.unpriced.map((u) => h('li', {}, `${u.authorisationCountry}:${u.liid} ${u.service ?? ''}: ${u.reason}`)),
            ),
          ]
        : null,
    );
  };
  const exportCsv = () => {
    if (!inv) return;
    const head = [
      'country',
      'liid',
      'service',
      'label',
      'section',
      'basis',
      'firstDay',
      'lastDay',
      'quantity',
      'lines',
      'unitMinor',
      'amountMinor',
      'currency',
      'auditSeqs',
    ];
    const rows = inv.items.map((x) =>
      [
        x.authorisationCountry,
        x.liid,
        x.service,
        x.label,
        x.section,
        x.basis,
        x.firstDay,
        x.lastDay,
        x.quantity,
        x.lines,
        x.unitMinor,
        x.amountMinor,
        inv!.currency,
        x.auditSeqs.join(' '),
      ]
        .map(csvCell)
        .join(','),
    );
    rows.push(
      ['', '', 'TOTAL', '', '', '', '', '', '', '', '', inv.totalMinor, inv.currency, ''].map(csvCell).join(','),
    );
    download(
      `billing-${inv.tenant}-${inv.fromDate}-${inv.toDate}.csv`,
      'text/csv',
      `${[head.join(','), ...rows].join('\r\n')}\r\n`,
    );
  };
  replace(
    ctx.main,
    h('h1', {}, t('billing')),
    h(
      'form',
      {
        class: 'filters no-print',
        onsubmit: (e: Event) => {
          e.preventDefault();
          void show();
        },
      },
      field(t('fromDate'), from, 'from'),
      field(t('toDate'), to, 'to'),
      h('button', { type: 'submit' }, t('show')),
      h('button', { type: 'button', onclick: exportCsv }, t('exportCsv')),
      h('button', { type: 'button', onclick: () => window.print() }, t('print')),
      err,
    ),
    out,
  );
  await show();
}
