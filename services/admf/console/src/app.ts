// The console's shell: sign-in, language, tenant (operator-wide admins pick one), and the screens
// the caller's role has. Navigation is in-memory state: the address bar stays /console/.
import { api, type Caller, Failed, setToken } from './api.ts';
import { auditScreen } from './audit.ts';
import { billingScreen } from './billing.ts';
import { field, h, input, replace, select } from './dom.ts';
import { getLang, type Key, setLang, t } from './i18n.ts';
import { lemfScreen } from './lemfs.ts';
import { warrantScreen } from './warrants.ts';

export interface Ctx {
  caller: Caller;
  tenant: string;
  /** whether this role may change what the screen shows */
  canWrite: boolean;
  main: HTMLElement;
  flash(text: string, error?: boolean): void;
}

type Screen = 'warrants' | 'lemfs' | 'audit' | 'billing';

/** Which screens each role sees, and on which it may write; admf enforces the same on every call. */
const ACCESS: Record<Caller['role'], { see: Screen[]; write: Screen[] }> = {
  provisioner: { see: ['warrants', 'lemfs'], write: ['warrants'] },
  admin: { see: ['lemfs', 'billing'], write: ['lemfs'] },
  auditor: { see: ['audit', 'billing'], write: [] },
};

const SCREENS: Record<Screen, (ctx: Ctx) => Promise<void>> = {
  warrants: warrantScreen,
  lemfs: lemfScreen,
  audit: auditScreen,
  billing: billingScreen,
};

const root = document.getElementById('app')!;
let caller: Caller | null = null;
let tenant = '';
let screen: Screen | null = null;
let tenants: string[] = [];

function signInView(message?: string): void {
  const tok = input({ type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  const err = h('p', { class: 'field-error', role: 'alert' }, message ?? '');
  const form = h(
    'form',
    {
      class: 'signin',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void signIn(tok.value.trim());
      },
    },
    h('h1', {}, t('title')),
    field(t('token'), tok, 'token', t('tokenHint')),
    err,
    h('button', { type: 'submit' }, t('signIn')),
    h('p', { class: 'muted' }, t('oidcLater')),
    langSwitch(() => signInView(message)),
  );
  replace(root, form);
  tok.focus();
}

function langSwitch(rerender: () => void): HTMLElement {
  const s = select(
    [
      ['en', 'English'],
      ['it', 'Italiano'],
    ],
    { 'aria-label': t('language'), class: 'lang' },
  );
  s.value = getLang();
  s.addEventListener('change', () => {
    setLang(s.value as 'en' | 'it');
    rerender();
  });
  return s;
}

async function signIn(token: string): Promise<void> {
  setToken(token);
  try {
    caller = await api<Caller>('GET', '/whoami');
  } catch (e) {
    setToken(null);
    signInView(e instanceof Failed && e.error.status === 401 ? t('badToken') : String((e as Error).message));
    return;
  }
  tenants = [];
  if (caller.tenant === '*') {
    tenants = (await api<{ id: string }[]>('GET', '/tenants')).map((x) => x.id);
    tenant = tenants[0] ?? '';
  } else {
    tenant = caller.tenant;
  }
  screen = ACCESS[caller.role].see[0] ?? null;
  shell();
}

function signOut(): void {
  setToken(null);
  caller = null;
  screen = null;
  signInView();
}

function shell(): void {
  const c = caller!;
  const access = ACCESS[c.role];
  const main = h('main', { id: 'main', tabindex: '-1' });
  const flashBox = h('div', { class: 'flash', role: 'status', 'aria-live': 'polite' });
  const tenantCtl =
    c.tenant === '*'
      ? (() => {
          const s = select(tenants, { 'aria-label': t('tenant') });
          s.value = tenant;
          s.addEventListener('change', () => {
            tenant = s.value;
            shell();
          });
          return s;
        })()
      : h('strong', {}, tenant);
  const nav = h(
    'nav',
    { 'aria-label': 'main' },
    access.see.map((s) =>
      h(
        'button',
        {
          type: 'button',
          class: s === screen ? 'tab active' : 'tab',
          'aria-current': s === screen ? 'page' : null,
          onclick: () => {
            screen = s;
            shell();
          },
        },
        t(s as Key),
      ),
    ),
  );
  replace(
    root,
    h(
      'header',
      {},
      h('span', { class: 'brand' }, t('title')),
      nav,
      h(
        'span',
        { class: 'who' },
        `${t('tenant')}: `,
        tenantCtl,
        ` · ${c.subject} (${c.tenant === '*' ? 'operator' : c.role})`,
      ),
      langSwitch(shell),
      h('button', { type: 'button', onclick: signOut }, t('signOut')),
    ),
    flashBox,
    main,
  );
  if (!screen || !tenant) {
    replace(main, h('p', {}, tenant ? t('noAccess') : t('pickTenant')));
    return;
  }
  const ctx: Ctx = {
    caller: c,
    tenant,
    canWrite: access.write.includes(screen),
    main,
    flash(text, error = false) {
      flashBox.className = error ? 'flash error' : 'flash';
      flashBox.textContent = text;
    },
  };
  SCREENS[screen](ctx).catch((e: unknown) => ctx.flash(`${t('error')}: ${(e as Error).message}`, true));
}

// A development link may carry the token in the fragment (never sent to a server): take it and
// clear the address bar at once.
const fragment = new URLSearchParams(location.hash.slice(1));
const devToken = fragment.get('token');
if (devToken) {
  history.replaceState(null, '', location.pathname);
  void signIn(devToken);
} else {
  signInView();
}
