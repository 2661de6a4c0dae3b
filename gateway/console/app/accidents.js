// Accidents per year and severity in the caller's scope, from GET /v1/accidents (every page of
// the last five calendar years, CST). The API scopes the records: a provincial operator's
// requests carry no tenant at all, so the page cannot ask for another province. Ministry
// operators narrow the national figures to one province with the switcher (no extra request).
// When the sharing analytics API lands, its aggregate route replaces the paging here.
import * as echarts from '/console/vendor/echarts.esm.min.mjs';
import { api, listAll } from './api.js';
import { emptyState, errorState, h, loading } from './dom.js';
import { formatNumber, formatYear, locale, t } from './i18n.js';

export const SEVERITIES = ['minor', 'serious', 'fatal'];
const COLOURS = { minor: '#2f6fb0', serious: '#b35c00', fatal: '#a40000' };  // >= 3:1 on white
const YEARS = 5;

function currentYearCst() {
  return Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()));
}

/** { year: { minor, serious, fatal } } of the active records whose tenant starts with `prefix`. */
export function countByYear(accidents, years, prefix = '') {
  const counts = Object.fromEntries(years.map((y) => [y, { minor: 0, serious: 0, fatal: 0 }]));
  for (const a of accidents) {
    if (a.status !== 'active' || !a.occurred_at || !a.severity || !a.tenant_code.startsWith(prefix)) continue;
    const year = Number(a.occurred_at.slice(0, 4));
    if (counts[year] && a.severity in counts[year]) counts[year][a.severity] += 1;
  }
  return counts;
}

const tenantName = (tenant) => (locale() === 'en' ? tenant.display_name_en : tenant.display_name) || tenant.code;

export async function renderAccidents(section, { claims, registerChart, isCurrent }) {
  const ministry = (claims.realm_access?.roles ?? []).includes('ministry_operator');
  const to = currentYearCst();
  const years = Array.from({ length: YEARS }, (_, i) => to - YEARS + 1 + i);
  const heading = h('h1', { tabindex: '-1' }, t('accidents.title'));
  const subtitle = h('p', { class: 'muted' },
    t('accidents.subtitle', { from: formatYear(years[0]), to: formatYear(to) }));
  const toolbar = h('div', { class: 'toolbar' });
  const body = h('div', {}, loading());
  section.replaceChildren(heading, subtitle, toolbar, body);

  let accidents;
  let provinces = [];
  try {
    const listing = listAll('/v1/accidents', 'accidents', { occurred_from: `${years[0]}-01-01` });
    if (ministry) {
      provinces = (await listAll('/v1/tenants', 'tenants', { parent: '100000' }))
        .filter((x) => x.level === 'province');
    } else {
      provinces = [await api(`/v1/tenants/${encodeURIComponent(claims.tenant)}`)];
    }
    accidents = await listing;
  } catch (error) {
    if (isCurrent()) body.replaceChildren(errorState(error, () => renderAccidents(section, { claims, registerChart, isCurrent })));
    return;
  }
  if (!isCurrent()) return;

  const chartBox = h('div', { class: 'chart', id: 'accidents-chart', role: 'img',
    'aria-label': t('accidents.chartLabel') });
  const tableBox = h('div', { class: 'table-wrap' });
  let chart = null;

  function draw(prefix) {
    const counts = countByYear(accidents, years, prefix);
    const total = years.reduce((sum, y) => sum + SEVERITIES.reduce((s, k) => s + counts[y][k], 0), 0);
    if (!total) {
      chart?.dispose();
      chart = null;
      body.replaceChildren(emptyState(t('accidents.empty')));
      return;
    }
    if (!chart) {
      body.replaceChildren(chartBox, tableBox);
      chart = echarts.init(chartBox, null, { renderer: 'canvas', locale: locale() === 'en' ? 'EN' : 'ZH' });
      registerChart('accidents-chart', chart);
      new ResizeObserver(() => chart?.resize()).observe(chartBox);
    }
    chart.setOption({
      aria: { enabled: true },
      tooltip: { trigger: 'axis', valueFormatter: (v) => formatNumber(v) },
      legend: { top: 0, textStyle: { fontSize: 13 } },
      grid: { left: 8, right: 8, bottom: 8, top: 40, containLabel: true },
      xAxis: { type: 'category', data: years.map(formatYear), name: t('accidents.year') },
      yAxis: { type: 'value', minInterval: 1, name: t('accidents.count'), nameTextStyle: { align: 'left' },
               axisLabel: { formatter: (v) => formatNumber(v) } },
      series: SEVERITIES.map((key) => ({ id: key, name: t(`severity.${key}`), type: 'bar', stack: 'accidents',
        itemStyle: { color: COLOURS[key] }, data: years.map((y) => counts[y][key]) })),
    }, true);
    const head = h('tr', {}, h('th', { scope: 'col' }, t('accidents.year')),
      SEVERITIES.map((k) => h('th', { scope: 'col' }, t(`severity.${k}`))), h('th', { scope: 'col' }, t('accidents.total')));
    const rows = years.map((y) => h('tr', { 'data-year': y }, h('th', { scope: 'row' }, formatYear(y)),
      SEVERITIES.map((k) => h('td', { 'data-severity': k }, formatNumber(counts[y][k]))),
      h('td', {}, formatNumber(SEVERITIES.reduce((s, k) => s + counts[y][k], 0)))));
    tableBox.replaceChildren(h('table', { id: 'accidents-table' }, h('caption', {}, t('accidents.table')),
      h('thead', {}, head), h('tbody', {}, rows)));
  }

  if (ministry) {
    const select = h('select', { id: 'province' },
      h('option', { value: '' }, t('accidents.national')),
      provinces.map((p) => h('option', { value: p.code }, tenantName(p))));
    select.addEventListener('change', () => draw(select.value.slice(0, 2)));
    toolbar.replaceChildren(h('label', { for: 'province' }, t('accidents.scope')), select);
    draw('');
  } else {
    toolbar.replaceChildren(h('p', { id: 'scope' }, `${t('accidents.scope')}: ${provinces.map(tenantName).join('')}`));
    draw('');
  }
}
