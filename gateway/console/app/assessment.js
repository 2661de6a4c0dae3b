// The assessment pages (issue 8 item 3, SPEC AS-1, AS-3, AS-4, AS-6): filings (awaiting
// acknowledgement / acknowledged / returned / overdue), the project pipeline by state with each
// pooling region's approved budget against its cap, and a premium-rate run's tier distribution.
// The API scopes every list: a provincial operator's requests name no tenant, only pooling
// regions and runs taken from its own answers.
import { api, listAll } from './api.js';
import { emptyState, errorState, h, loading } from './dom.js';
import { formatDateTime, formatNumber, formatYear, locale, t } from './i18n.js';
import { AXIS_LABEL, GRID, chartBox, currentYearCst, dataTable, draw, nameOf } from './charts.js';
import { scopeTenants } from './overview.js';

export const FILING_STATUSES = ['submitted', 'acknowledged', 'returned', 'overdue'];
export const PROJECT_STATES = ['submitted', 'under_review', 'approved', 'in_progress', 'acceptance', 'completed',
  'failed', 'rejected', 'withdrawn'];

const yuan = (fen) => Number(fen) / 100;
const formatYuan = (fen) => new Intl.NumberFormat(locale(), { style: 'currency', currency: 'CNY',
  maximumFractionDigits: 0 }).format(yuan(fen));

function retry(body, again) {
  return (error) => body.replaceChildren(errorState(error, again));
}

/** Filings counted by status: the filings' own states plus the expected ones that are overdue. */
export function filingCounts(filings, overdue) {
  return FILING_STATUSES.map((s) => (s === 'overdue' ? overdue.length : filings.filter((f) => f.state === s).length));
}

export async function renderFilings(section, context) {
  const { claims, registerChart, isCurrent } = context;
  const heading = h('h1', { tabindex: '-1' }, t('filings.title'));
  const body = h('div', {}, loading());
  section.replaceChildren(heading, h('p', { class: 'muted' }, t('filings.subtitle')), body);
  let filings;
  let overdue;
  let tenants;
  try {
    [filings, overdue, tenants] = await Promise.all([listAll('/v1/filings', 'filings'),
      api('/v1/overdue-filings').then((x) => x.overdue_filings), scopeTenants(claims)]);
  } catch (error) {
    if (isCurrent()) retry(body, () => renderFilings(section, context))(error);
    return;
  }
  if (!isCurrent()) return;
  if (!filings.length && !overdue.length) {
    body.replaceChildren(emptyState(t('filings.empty')));
    return;
  }
  const counts = filingCounts(filings, overdue);
  const box = chartBox('filings-chart', t('filings.chartLabel'));
  const kind = (k) => t(`filings.kind.${k}`);
  const sorted = [...overdue].sort((a, b) => a.due_date.localeCompare(b.due_date) || a.tenant_code.localeCompare(b.tenant_code));
  body.replaceChildren(box,
    dataTable('filings-table', t('filings.table'), [t('filings.status'), t('filings.count')],
      FILING_STATUSES.map((s, i) => [t(`filings.status.${s}`), counts[i]])),
    h('h2', {}, t('filings.overdue')),
    sorted.length ? dataTable('filings-overdue-table', t('filings.overdueTable'),
      [t('coverage.province'), t('filings.kind'), t('overview.year'), t('filings.due'), t('filings.why')],
      sorted.map((f) => [nameOf(tenants, f.tenant_code), kind(f.kind), formatYear(f.year), f.due_date,
        t(`filings.why.${f.status}`)])) : emptyState(t('filings.overdueEmpty')),
    h('h2', {}, t('filings.list')),
    filings.length ? dataTable('filings-list-table', t('filings.listTable'),
      [t('coverage.province'), t('filings.kind'), t('overview.year'), t('filings.due'), t('filings.status')],
      filings.map((f) => [nameOf(tenants, f.tenant_code), kind(f.kind), formatYear(f.year), f.due_date,
        t(`filings.status.${f.state}`)])) : emptyState(t('filings.listEmpty')));
  draw(box, {
    tooltip: { trigger: 'axis' }, grid: { ...GRID, top: 16 },
    xAxis: { type: 'category', data: FILING_STATUSES.map((s) => t(`filings.status.${s}`)) },
    yAxis: { type: 'value', minInterval: 1, axisLabel: AXIS_LABEL },
    series: [{ id: 'filings', name: t('filings.count'), type: 'bar', data: counts, itemStyle: { color: '#0b5cad' } }],
  }, registerChart);
}

export async function renderProjects(section, context) {
  const { registerChart, isCurrent } = context;
  const year = currentYearCst();
  const heading = h('h1', { tabindex: '-1' }, t('projects.title'));
  const body = h('div', {}, loading());
  section.replaceChildren(heading, h('p', { class: 'muted' }, t('projects.subtitle', { year: formatYear(year) })), body);
  let projects;
  let budgets;
  try {
    projects = await listAll('/v1/projects', 'projects');
    const regions = [...new Set(projects.map((p) => p.pooling_region).filter(Boolean))].sort();
    budgets = await Promise.all(regions.map((r) => api(
      `/v1/budget-status?${new URLSearchParams({ pooling_region: r, year: String(year) })}`)));
  } catch (error) {
    if (isCurrent()) retry(body, () => renderProjects(section, context))(error);
    return;
  }
  if (!isCurrent()) return;
  if (!projects.length) {
    body.replaceChildren(emptyState(t('projects.empty')));
    return;
  }
  const counts = PROJECT_STATES.map((s) => projects.filter((p) => p.state === s).length);
  const pipeline = chartBox('projects-chart', t('projects.chartLabel'));
  const budgetBox = chartBox('budget-chart', t('projects.budgetLabel'));
  body.replaceChildren(pipeline,
    dataTable('projects-table', t('projects.table'), [t('province.state'), t('projects.count')],
      PROJECT_STATES.map((s, i) => [t(`project.${s}`), counts[i]])),
    h('h2', {}, t('projects.budget', { year: formatYear(year) })),
    budgets.length ? budgetBox : emptyState(t('projects.budgetEmpty')),
    budgets.length ? dataTable('budget-table', t('projects.budgetTable'),
      [t('projects.region'), t('projects.approved'), t('projects.cap'), t('projects.remaining')],
      budgets.map((b) => [b.pooling_region, formatYuan(b.approved_fen), formatYuan(b.cap_fen),
        formatYuan(b.remaining_fen)])) : '');
  draw(pipeline, {
    tooltip: { trigger: 'axis' }, grid: GRID,
    xAxis: { type: 'category', data: PROJECT_STATES.map((s) => t(`project.${s}`)), axisLabel: { interval: 0, rotate: 30 } },
    yAxis: { type: 'value', minInterval: 1, axisLabel: AXIS_LABEL },
    series: [{ id: 'projects', name: t('projects.count'), type: 'bar', data: counts, itemStyle: { color: '#0b5cad' } }],
  }, registerChart);
  if (budgets.length) {
    draw(budgetBox, {
      tooltip: { trigger: 'axis', valueFormatter: (v) => formatNumber(v) }, legend: { top: 0 }, grid: GRID,
      xAxis: { type: 'category', data: budgets.map((b) => b.pooling_region) },
      yAxis: { type: 'value', name: t('projects.yuan'), axisLabel: AXIS_LABEL },
      series: [
        { id: 'approved', name: t('projects.approved'), type: 'bar', itemStyle: { color: '#0b5cad' },
          data: budgets.map((b) => yuan(b.approved_fen)) },
        { id: 'cap', name: t('projects.cap'), type: 'bar', itemStyle: { color: '#a40000' },
          data: budgets.map((b) => yuan(b.cap_fen)) },
      ],
    }, registerChart);
  }
}

/** Results per tier, tiers in their natural order ("50%" < "100%" < "150%"). */
export function tierCounts(results) {
  const counts = new Map();
  for (const r of results) counts.set(r.tier, (counts.get(r.tier) ?? 0) + 1);
  const tiers = [...counts.keys()].sort((a, b) => (parseFloat(a) - parseFloat(b)) || a.localeCompare(b));
  return { tiers, counts: tiers.map((x) => counts.get(x)) };
}

export async function renderRates(section, context) {
  const { registerChart, isCurrent } = context;
  const heading = h('h1', { tabindex: '-1' }, t('rates.title'));
  const body = h('div', {}, loading());
  section.replaceChildren(heading, h('p', { class: 'muted' }, t('rates.subtitle')), body);
  let runs;
  try {
    runs = (await api('/v1/rate-runs?page_size=50')).rate_runs;
  } catch (error) {
    if (isCurrent()) body.replaceChildren(errorState(error, () => renderRates(section, context)));
    return;
  }
  if (!isCurrent()) return;
  if (!runs.length) {
    body.replaceChildren(emptyState(t('rates.none')));
    return;
  }
  const select = h('select', { id: 'rate-run', name: 'run', 'aria-describedby': 'rate-run-help' },
    ...runs.map((run) => h('option', { value: run.name.replace(/^rateRuns\//, '') },
      t('rates.option', { region: run.pooling_region, year: formatYear(run.cycle_end_year), state: run.state,
        time: formatDateTime(run.create_time) }))));
  const form = h('form', { class: 'toolbar', id: 'rate-run-form' },
    h('label', { for: 'rate-run' }, t('rates.run')), select,
    h('button', { type: 'submit' }, t('rates.show')));
  const result = h('div', {});
  body.replaceChildren(form, h('p', { class: 'muted', id: 'rate-run-help' }, t('rates.help')), result);
  let chart = null;
  const show = async () => {
    const id = select.value;
    result.replaceChildren(loading());
    let run;
    let results;
    try {
      [run, results] = await Promise.all([api(`/v1/rate-runs/${id}`),
        listAll(`/v1/rate-runs/${id}/results`, 'rate_results')]);
    } catch (error) {
      if (isCurrent()) result.replaceChildren(errorState(error, show));
      return;
    }
    if (!isCurrent() || select.value !== id) return;
    chart?.dispose();
    chart = null;
    if (!results.length) {
      result.replaceChildren(emptyState(t('rates.empty')));
      return;
    }
    const { tiers, counts } = tierCounts(results);
    const box = chartBox('rates-chart', t('rates.chartLabel'));
    result.replaceChildren(
      h('p', { id: 'rate-run-summary' }, t('rates.summary', { region: run.pooling_region,
        year: formatYear(run.cycle_end_year), state: run.state, count: formatNumber(results.length) })),
      box, dataTable('rates-table', t('rates.table'), [t('rates.tier'), t('rates.employers')],
        tiers.map((x, i) => [x, counts[i]])));
    chart = draw(box, {
      tooltip: { trigger: 'axis' }, grid: GRID,
      xAxis: { type: 'category', data: tiers, name: t('rates.tier') },
      yAxis: { type: 'value', minInterval: 1, axisLabel: AXIS_LABEL },
      series: [{ id: 'tiers', name: t('rates.employers'), type: 'bar', data: counts, itemStyle: { color: '#0b5cad' } }],
    }, registerChart);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    show();
  });
  select.addEventListener('change', show);
  await show();
}
