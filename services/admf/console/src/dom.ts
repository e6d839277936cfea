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
