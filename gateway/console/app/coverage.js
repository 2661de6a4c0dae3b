// Training coverage (issue 8 item 3, SPEC TR-5): the share of required key personnel trained,
// per province and per key position, against the plan's target and its date, from
// GET /v1/coverage. Ministry operators get one answer per province (tenant_code of each
// province); a provincial operator asks without a tenant — the API answers for its own — so its
// requests never name another province.
import { api } from './api.js';
import { emptyState, errorState, h, loading } from './dom.js';
import { formatNumber, formatYear, t } from './i18n.js';
import { GRID, chartBox, currentYearCst, dataTable, draw, formatPct, tenantName } from './charts.js';
import { scopeTenants } from './overview.js';

const pctAxis = { type: 'value', min: 0, max: 1, axisLabel: { formatter: (v) => formatPct(v) } };

function targetLine(target) {
  return target ? { silent: true, symbol: 'none', lineStyle: { color: '#a40000', type: 'dashed' },
    label: { formatter: () => formatPct(target) }, data: [{ yAxis: target }] } : undefined;
}

export async function renderCoverage(section, { claims, registerChart, isCurrent }) {
  const ministry = (claims.realm_access?.roles ?? []).includes('ministry_operator');
  const year = currentYearCst();
  const heading = h('h1', { tabindex: '-1' }, t('coverage.title'));
  const body = h('div', {}, loading());
  section.replaceChildren(heading, body);
  let own;
  let provinces;
  let perProvince;
  try {
    provinces = await scopeTenants(claims);
    if (ministry) {
      own = await api(`/v1/coverage?year=${year}`);
      perProvince = await Promise.all(provinces.map((p) => api(
        `/v1/coverage?${new URLSearchParams({ tenant_code: p.code, year: String(year) })}`)));
    } else {
      own = await api(`/v1/coverage?year=${year}`);
      perProvince = [own];
    }
  } catch (error) {
    if (isCurrent()) body.replaceChildren(errorState(error, () => renderCoverage(section, { claims, registerChart, isCurrent })));
    return;
  }
  if (!isCurrent()) return;
  const summary = h('p', { class: 'state', id: 'coverage-summary' }, own.required
    ? t('coverage.summary', { trained: formatNumber(own.trained), required: formatNumber(own.required),
      ratio: formatPct(own.ratio), target: formatPct(own.target), due: own.due_date || '—',
      gap: formatNumber(own.gap) })
    : t('coverage.empty'));
  const rows = perProvince.map((c, i) => ({ code: provinces[i]?.code ?? c.tenant_code,
    name: provinces[i] ? tenantName(provinces[i]) : c.tenant_code, coverage: c }))
    .filter((r) => r.coverage.required > 0);
  const positions = own.by_key_position.filter((r) => r.required > 0);
  const provinceBox = chartBox('coverage-province-chart', t('coverage.provinceLabel'));
  const positionBox = chartBox('coverage-position-chart', t('coverage.positionLabel'));
  const subtitle = h('p', { class: 'muted' }, t('coverage.subtitle', { year: formatYear(year) }));
  body.replaceChildren(subtitle, summary,
    h('h2', {}, t('coverage.byProvince')),
    rows.length ? provinceBox : emptyState(t('coverage.empty')),
    rows.length ? dataTable('coverage-province-table', t('coverage.provinceTable'),
      [t('coverage.province'), t('coverage.trained'), t('coverage.required'), t('coverage.ratio')],
      rows.map((r) => [r.name, r.coverage.trained, r.coverage.required, formatPct(r.coverage.ratio)])) : '',
    h('h2', {}, t('coverage.byPosition')),
    positions.length ? positionBox : emptyState(t('coverage.empty')),
    positions.length ? dataTable('coverage-position-table', t('coverage.positionTable'),
      [t('coverage.position'), t('coverage.trained'), t('coverage.required'), t('coverage.ratio')],
      positions.map((r) => [r.display_name || r.key, r.trained, r.required, formatPct(r.ratio)])) : '');
  const bars = (box, id, names, values) => draw(box, {
    tooltip: { trigger: 'axis', valueFormatter: formatPct }, grid: GRID,
    xAxis: { type: 'category', data: names, axisLabel: { interval: 0, rotate: names.length > 4 ? 30 : 0 } },
    yAxis: pctAxis,
    series: [{ id, name: t('coverage.ratio'), type: 'bar', itemStyle: { color: '#0b5cad' }, data: values,
      markLine: targetLine(own.target) }],
  }, registerChart);
  if (rows.length) bars(provinceBox, 'coverage', rows.map((r) => r.name), rows.map((r) => r.coverage.ratio));
  if (positions.length) bars(positionBox, 'coverage', positions.map((r) => r.display_name || r.key),
    positions.map((r) => r.ratio));
}
