// Small DOM helpers: elements are built with textContent, never innerHTML, so data from the API
// cannot inject markup.
import { t } from './i18n.js';
import { ApiError } from './api.js';

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const loading = () => h('p', { role: 'status', class: 'state', 'data-state': 'loading' }, t('loading'));

export function errorState(error, retry) {
  let message = t('error.network');
  if (error instanceof ApiError && error.status === 403) message = t('error.forbidden');
  else if (error instanceof ApiError && error.status) {
    message = t('error.server', { status: error.status, requestId: error.requestId || '—' });
  }
  return h('div', { role: 'alert', class: 'state error', 'data-state': 'error' },
    h('p', {}, h('strong', {}, t('error.title'))), h('p', {}, message),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: retry }, t('retry'))));
}

export const emptyState = (text) => h('p', { class: 'state', 'data-state': 'empty' }, text);
