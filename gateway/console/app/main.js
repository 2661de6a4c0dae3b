// The console's frame: sign-in, header, navigation, language switch and the hash router.
import * as auth from './auth.js';
import { locale, setLocale, t } from './i18n.js';
import { h } from './dom.js';
import { renderInbox } from './inbox.js';
import { renderAccidents } from './accidents.js';
import { renderOverview } from './overview.js';
import { renderProvince } from './province.js';
import { renderCoverage } from './coverage.js';
import { renderFilings, renderProjects, renderRates } from './assessment.js';

const OPERATOR_ROLES = ['ministry_operator', 'provincial_operator'];
const PAGES = [
  { hash: '#/inbox', label: 'nav.inbox', render: renderInbox, roles: null },
  { hash: '#/accidents', label: 'nav.accidents', render: renderAccidents, roles: OPERATOR_ROLES },
  { hash: '#/overview', label: 'nav.overview', render: renderOverview, roles: OPERATOR_ROLES },
  { hash: '#/province', label: 'nav.province', render: renderProvince, roles: OPERATOR_ROLES },
  { hash: '#/coverage', label: 'nav.coverage', render: renderCoverage, roles: OPERATOR_ROLES },
  { hash: '#/filings', label: 'nav.filings', render: renderFilings, roles: OPERATOR_ROLES },
  { hash: '#/projects', label: 'nav.projects', render: renderProjects, roles: OPERATOR_ROLES },
  { hash: '#/rates', label: 'nav.rates', render: renderRates, roles: OPERATOR_ROLES },
];
// Charts by element id, for diagnostics and the browser tests (reading what is drawn).
const charts = new Map();
window.preventionConsole = { chart: (id) => charts.get(id) ?? null };

const main = document.getElementById('main');
// The skip link must not change the hash: the hash is the router's.
document.getElementById('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
let signedOutReason = '';
let signInError = '';

export const registerChart = (id, chart) => charts.set(id, chart);

function roles() {
  return auth.current()?.claims?.realm_access?.roles ?? [];
}

function visiblePages() {
  const mine = roles();
  return PAGES.filter((p) => !p.roles || p.roles.some((r) => mine.includes(r)));
}

function renderFrame(active) {
  document.getElementById('skip-link').textContent = t('skip');
  document.getElementById('brand').textContent = t('app');
  document.title = t('app');
  const session = document.getElementById('session');
  const languageButton = h('button', { type: 'button', class: 'secondary', lang: locale() === 'en' ? 'zh-CN' : 'en',
    'aria-label': t('language.label'), id: 'language',
    onclick: () => { setLocale(locale() === 'en' ? 'zh-CN' : 'en'); route(); } }, t('language'));
  const claims = auth.current()?.claims;
  const role = roles().find((r) => OPERATOR_ROLES.includes(r));
  session.replaceChildren(
    claims ? h('span', { class: 'who' }, claims.preferred_username, role ? ` · ${t(`role.${role}`)}` : '') : '',
    languageButton,
    claims ? h('button', { type: 'button', class: 'secondary', id: 'sign-out', onclick: () => auth.signOut() },
      t('signOut')) : '',
  );
  const nav = document.getElementById('nav');
  nav.setAttribute('aria-label', t('nav'));
  nav.replaceChildren(claims ? h('ul', {}, visiblePages().map((p) => h('li', {},
    h('a', { href: p.hash, 'aria-current': p === active ? 'page' : false }, t(p.label))))) : '');
}

function renderSignedOut() {
  charts.forEach((chart) => chart.dispose());
  charts.clear();
  renderFrame(null);
  const reasons = { logout: t('signedOut.loggedOut'), expired: t('signedOut.expired'),
    idle: t('signedOut.idle', { minutes: Math.round(auth.idleSeconds() / 60) }) };
  const notice = signInError ? t('signedOut.failed', { detail: signInError }) : reasons[signedOutReason];
  const heading = h('h1', { tabindex: '-1' }, t('signedOut.title'));
  main.replaceChildren(h('section', { class: 'signed-out', 'data-page': 'signed-out' },
    heading,
    notice ? h('p', { role: 'alert', class: 'state', 'data-reason': signInError ? 'failed' : signedOutReason },
      notice) : '',
    h('p', {}, t('signedOut.body')),
    h('button', { type: 'button', id: 'sign-in', onclick: () => auth.signIn(window.location.hash) }, t('signIn'))));
}

let renderToken = 0;

async function route() {
  if (!auth.current()) { renderSignedOut(); return; }
  const pages = visiblePages();
  const page = pages.find((p) => p.hash === window.location.hash) ?? pages[0];
  if (window.location.hash !== page.hash) window.history.replaceState(null, '', page.hash);
  charts.forEach((chart) => chart.dispose());
  charts.clear();
  renderFrame(page);
  const mine = ++renderToken;
  const section = h('section', { 'data-page': page.hash.slice(2) });
  main.replaceChildren(section);
  await page.render(section, { claims: auth.current().claims, registerChart,
    isCurrent: () => mine === renderToken });
}

auth.onSignedOut((reason) => {
  signedOutReason = reason;
  signInError = '';
  window.history.replaceState(null, '', '/console');
  renderSignedOut();
});

window.addEventListener('hashchange', async () => {
  await route();
  document.querySelector('main h1')?.focus();  // screen readers hear the new page
});

async function start() {
  setLocale(locale());
  if (window.location.pathname === '/console/callback') {
    try {
      const returnTo = await auth.completeSignIn();
      if (returnTo) window.history.replaceState(null, '', `/console${returnTo}`);
    } catch (error) {
      signInError = error.message;
    }
  }
  await route();
}

start();
