// Province view (issue 8 item 3): incidence per industry division in one province (pooled over
// its tenants), its rectification closure for the current year and — for provincial operators,
// whose notices the API lists — notices by state and the overdue ones (still open with the
// employer, past the end of the deadline day in CST). Ministry operators pick a province; the
// figures are filtered from national answers in the page (no request names a province). A
// provincial operator's requests carry no tenant: the API scopes them to its own subtree.
import { listAll, api } from './api.js';
import { emptyState, errorState, h, loading } from './dom.js';
import { formatDateTime, formatNumber, formatYear, t } from './i18n.js';
import { AXIS_LABEL, GRID, chartBox, currentYearCst, dataTable, draw, formatPct, formatRate, pooledRate,
  tenantName } from './charts.js';
import { scopeTenants } from './overview.js';

export const STATES = ['issued', 'responded', 'returned', 'escalated', 'closed'];
const OPEN = ['issued', 'returned'];

/** { division: rate } of the rows in tenants starting with `prefix`, divisions in code order. */
export function industryRates(rows, prefix) {
  const groups = new Map();
  for (const row of rows) {
    if (!row.tenant_code.startsWith(prefix)) continue;
    if (!groups.has(row.industry_code)) groups.set(row.industry_code, { figures: [], key: false });
    const group = groups.get(row.industry_code);
    group.figures.push(row.figures);
    group.key = group.key || row.key_industry;
  }
  return [...groups.keys()].sort().map((code) => ({ code, key: groups.get(code).key,
    rate: pooledRate(groups.get(code).figures),
    injured: groups.get(code).figures.reduce((s, f) => s + f.injured_persons, 0),
    insured: groups.get(code).figures.reduce((s, f) => s + f.insured_persons, 0) }));
}

export const isOverdue = (notice, now = Date.now()) => OPEN.includes(notice.state)
  && new Date(notice.due_time).getTime() < now;

export async function renderProvince(section, { claims, registerChart, isCurrent }) {
  const ministry = (claims.realm_access?.roles ?? []).includes('ministry_operator');
  const year = currentYearCst();
  const heading = h('h1', { tabindex: '-1' }, t('province.title'));
  const toolbar = h('div', { class: 'toolbar' });
  const body = h('div', {}, loading());
  section.replaceChildren(heading, toolbar, body);
  let incidence;
  let closure;
  let notices = null;
  let provinces;
  try {
    const requests = [api('/v1/analytics/incidence'), api(`/v1/rectification-closure?year=${year}`),
      scopeTenants(claims)];
    if (!ministry) requests.push(listAll('/v1/rectification-notices', 'rectification_notices'));
    [incidence, closure, provinces, notices = null] = await Promise.all(requests);
  } catch (error) {
    if (isCurrent()) body.replaceChildren(errorState(error, () => renderProvince(section, { claims, registerChart, isCurrent })));
    return;
  }
  if (!isCurrent()) return;

  let drawn = [];
  function show(code) {
    drawn.forEach((chart) => chart.dispose());
    drawn = [];
    const prefix = code.slice(0, 2);
    const industries = industryRates(incidence.rows, prefix);
    const closed = closure.tenants.filter((x) => x.tenant_code.startsWith(prefix));
    const due = closed.reduce((s, x) => s + x.due, 0);
    const done = closed.reduce((s, x) => s + x.closed, 0);
    const parts = [h('h2', {}, t('province.industries', { year: formatYear(incidence.year) }))];
    const industryBox = chartBox('province-industry-chart', t('province.industriesLabel'));
    if (industries.length) {
      parts.push(industryBox, dataTable('province-industry-table', t('province.industriesTable'),
        [t('province.industry'), t('overview.rate'), t('overview.injured'), t('overview.insured')],
        industries.map((x) => [x.key ? `${x.code} ★` : x.code, formatRate(x.rate), x.injured, x.insured])),
      h('p', { class: 'muted' }, t('province.keyMark')));
    } else {
      parts.push(emptyState(t('province.industriesEmpty')));
    }
    parts.push(h('h2', {}, t('province.closure', { year: formatYear(year) })),
      h('p', { id: 'province-closure', class: 'state' }, due
        ? t('province.closureText', { closed: formatNumber(done), due: formatNumber(due), rate: formatPct(done / due) })
        : t('province.closureEmpty')));
    const stateBox = chartBox('province-notices-chart', t('province.noticesLabel'));
    let overdue = [];
    if (notices) {
      const mine = notices.filter((n) => n.tenant_code.startsWith(prefix));
      const counts = STATES.map((s) => mine.filter((n) => n.state === s).length);
      overdue = mine.filter((n) => isOverdue(n)).sort((a, b) => a.due_time.localeCompare(b.due_time));
      parts.push(h('h2', {}, t('province.notices')));
      if (mine.length) {
        parts.push(stateBox, dataTable('province-notices-table', t('province.noticesTable'),
          [t('province.state'), t('province.count')], STATES.map((s, i) => [t(`state.${s}`), counts[i]])));
      } else {
        parts.push(emptyState(t('province.noticesEmpty')));
      }
      parts.push(h('h2', {}, t('province.overdue')), overdue.length
        ? h('ul', { class: 'inbox', id: 'province-overdue' }, overdue.map((n) => h('li', { 'data-id': n.id },
          h('p', {}, n.required_action),
          h('p', { class: 'meta' }, `${t(`state.${n.state}`)} · ${t('province.due')} `,
            h('time', { datetime: n.due_time }, formatDateTime(n.due_time))))))
        : emptyState(t('province.overdueEmpty')));
      body.replaceChildren(...parts);
      if (mine.length) {
        drawn.push(draw(stateBox, {
          tooltip: { trigger: 'axis' }, grid: { ...GRID, top: 16 },
          xAxis: { type: 'category', data: STATES.map((s) => t(`state.${s}`)) },
          yAxis: { type: 'value', minInterval: 1, axisLabel: AXIS_LABEL },
          series: [{ id: 'notices', name: t('province.count'), type: 'bar', itemStyle: { color: '#0b5cad' },
            data: counts }],
        }, registerChart));
      }
    } else {
      parts.push(h('p', { class: 'muted' }, t('province.noticesMinistry')));
      body.replaceChildren(...parts);
    }
    if (industries.length) {
      drawn.push(draw(industryBox, {
        tooltip: { trigger: 'axis', valueFormatter: formatRate }, grid: { ...GRID, top: 16 },
        xAxis: { type: 'category', data: industries.map((x) => (x.key ? `${x.code} ★` : x.code)) },
        yAxis: { type: 'value', name: t('overview.rateAxis'), axisLabel: AXIS_LABEL },
        series: [{ id: 'incidence', name: t('overview.rate'), type: 'bar', itemStyle: { color: '#0b5cad' },
          data: industries.map((x) => x.rate) }],
      }, registerChart));
    }
  }

  if (ministry) {
    const select = h('select', { id: 'province' },
      provinces.map((p) => h('option', { value: p.code }, tenantName(p))));
    select.addEventListener('change', () => show(select.value));
    toolbar.replaceChildren(h('label', { for: 'province' }, t('accidents.scope')), select);
    show(select.value);
  } else {
    toolbar.replaceChildren(h('p', { id: 'scope' }, `${t('accidents.scope')}: ${provinces.map(tenantName).join('')}`));
    show(claims.tenant);
  }
}
