// A tiny element builder: no framework, no innerHTML (every text goes through textContent, so
// nothing an API returns can become markup).
type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v);
    else if (k === 'checked' && v === true) (el as HTMLInputElement).checked = true;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** A labelled form control; `field` is admf's name of the input (error messages attach to it). */
export function field(label: string, control: HTMLElement, fieldName: string, hint?: string): HTMLElement {
  const id = `f-${fieldName.replace(/[^A-Za-z0-9]/g, '-')}-${Math.random().toString(36).slice(2, 7)}`;
  control.id = id;
  const err = h('span', { class: 'field-error', 'data-error-for': fieldName, 'aria-live': 'polite' });
  control.setAttribute('aria-describedby', `${id}-err`);
  err.id = `${id}-err`;
  return h(
    'div',
    { class: 'field', 'data-field': fieldName },
    h('label', { for: id }, label),
    control,
    hint ? h('small', {}, hint) : null,
    err,
  );
}

/** Related fields under a legend; `errorFor` ends the group with the slot of an error on all of it. */
export function fieldGroup(o: { legend: string; errorFor?: string; attrs?: Attrs }, ...children: Child[]) {
  return h(
    'fieldset',
    o.attrs ?? {},
    h('legend', {}, o.legend),
    children,
    o.errorFor ? h('span', { class: 'field-error', 'data-error-for': o.errorFor }) : null,
  );
}

/** An edit form card: title, the form-level error line, the fields, then submit and cancel. */
export function formCard(
  o: { title: string; submitLabel: string; cancelLabel: string; onSubmit: () => void; onCancel: () => void },
  ...children: Child[]
): HTMLFormElement {
  return h(
    'form',
    {
      class: 'card',
      novalidate: true,
      'aria-label': o.title,
      onsubmit: (e: Event) => {
        e.preventDefault();
        o.onSubmit();
      },
    },
    h('h2', {}, o.title),
    h('p', { class: 'field-error', 'data-error-for': 'form', role: 'alert' }),
    children,
    h(
      'div',
      { class: 'buttons' },
      h('button', { type: 'submit' }, o.submitLabel),
      h('button', { type: 'button', onclick: o.onCancel }, o.cancelLabel),
    ),
  );
}

/** Shows admf's 400 answer next to the field it names (or the nearest enclosing one), else at the form's top. */
export function showFieldError(form: HTMLElement, error: { message: string; field?: string }): void {
  for (const e of form.querySelectorAll('.field-error')) e.textContent = '';
  for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
  let name = error.field ?? '';
  while (name) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot) {
      slot.textContent = error.message;
      const control = slot.parentElement?.querySelector('input,select,textarea');
      control?.setAttribute('aria-invalid', 'true');
      (control as HTMLElement | null)?.focus();
      return;
    }
    name = name.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
  }
  const top = form.querySelector('[data-error-for="form"]');
  if (top) top.textContent = error.field ? `${error.field}: ${error.message}` : error.message;
}

export function clearErrors(form: HTMLElement): void {
  for (const e of form.querySelectorAll('.field-error')) e.textContent = '';
}

export const input = (attrs: Attrs = {}) => h('input', { type: 'text', ...attrs });

export function select(options: readonly (string | [string, string])[], attrs: Attrs = {}): HTMLSelectElement {
  return h(
    'select',
    attrs,
    options.map((o) => (Array.isArray(o) ? h('option', { value: o[0] }, o[1]) : h('option', { value: o }, o))),
  );
}

export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
