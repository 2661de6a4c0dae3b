// National overview (issue 8 item 3): key-industry incidence per year — injured persons per
// 100,000 insured in the key industries, pooled over the tenants the caller may see — against the
// target line of the plan the latest full year belongs to (the baseline year's rate changed by the
// plan's target), and the ranking of regions by incidence. Everything comes from
// GET /v1/analytics/incidence, which scopes the rows: a provincial operator's requests carry no
// tenant, so the page shows its own subtree only and cannot ask for more.
import { api, listAll } from './api.js';
import { emptyState, errorState, h, loading } from './dom.js';
import { formatNumber, formatYear, t } from './i18n.js';
import { AXIS_LABEL, GRID, chartBox, dataTable, draw, formatRate, nameOf, pooledRate } from './charts.js';

export async function scopeTenants(claims) {
  const ministry = (claims.realm_access?.roles ?? []).includes('ministry_operator');
  if (ministry) {
    return (await listAll('/v1/tenants', 'tenants', { parent: '100000' })).filter((x) => x.level === 'province');
  }
  return [await api(`/v1/tenants/${encodeURIComponent(claims.tenant)}`)];
}

/** The series the overview draws, from the incidence answers of the plan's years (latest last). */
export function incidenceSeries(answers) {
  const latest = answers[answers.length - 1];
  const years = [];
  const rates = [];
  if (latest.baseline_year) {
    years.push(latest.baseline_year);
    rates.push(pooledRate(latest.key_industries.map((k) => k.baseline)));
  }
  for (const answer of answers) {
    years.push(answer.year);
    rates.push(pooledRate(answer.key_industries.map((k) => k.figures)));
  }
  const target = latest.key_industries.find((k) => k.target_change_pct !== null)?.target_change_pct ?? null;
  const base = rates[0];
  const line = latest.baseline_year && target !== null && base !== null
    ? Math.round(base * (1 + target / 100) * 1000) / 1000 : null;
  return { years, rates, target, targetRate: line };
}

export async function renderOverview(section, { claims, registerChart, isCurrent }) {
  const heading = h('h1', { tabindex: '-1' }, t('overview.title'));
  const subtitle = h('p', { class: 'muted' }, t('overview.subtitle'));
  const body = h('div', {}, loading());
  section.replaceChildren(heading, subtitle, body);
  let answers;
  let tenants;
  try {
    const [latest, names] = await Promise.all([api('/v1/analytics/incidence'), scopeTenants(claims)]);
    tenants = names;
    const first = latest.baseline_year ? latest.baseline_year + 1 : latest.year;
    const earlier = [];
    for (let y = first; y < latest.year; y += 1) earlier.push(y);
    answers = [...await Promise.all(earlier.map((y) => api(`/v1/analytics/incidence?year=${y}`))), latest];
  } catch (error) {
    if (isCurrent()) body.replaceChildren(errorState(error, () => renderOverview(section, { claims, registerChart, isCurrent })));
    return;
  }
  if (!isCurrent()) return;
  const latest = answers[answers.length - 1];
  const series = incidenceSeries(answers);
  if (series.rates.every((r) => r === null) && !latest.region_ranking.length) {
    body.replaceChildren(emptyState(t('overview.empty')));
    return;
  }
  const trendBox = chartBox('overview-incidence-chart', t('overview.trendLabel'));
  const rankingBox = chartBox('overview-ranking-chart', t('overview.rankingLabel'));
  const plan = latest.plan
    ? t('overview.plan', { plan: latest.plan, baseline: formatYear(latest.baseline_year),
      target: formatNumber(series.target ?? 0) })
    : t('overview.noPlan');
  const ranking = latest.region_ranking;
  body.replaceChildren(
    h('h2', {}, t('overview.trend')), h('p', { class: 'muted', id: 'overview-plan' }, plan), trendBox,
    dataTable('overview-incidence-table', t('overview.trendTable'),
      [t('overview.year'), t('overview.rate'), t('overview.target')],
      series.years.map((y, i) => [formatYear(y), formatRate(series.rates[i]), formatRate(series.targetRate)])),
    h('h2', {}, t('overview.ranking', { year: formatYear(latest.year) })),
    ranking.length ? rankingBox : emptyState(t('overview.rankingEmpty')),
    ranking.length ? dataTable('overview-ranking-table', t('overview.rankingTable'),
      [t('overview.rank'), t('overview.region'), t('overview.rate'), t('overview.injured'), t('overview.insured')],
      ranking.map((r) => [formatNumber(r.rank), nameOf(tenants, r.key), formatRate(r.incidence_per_100k_insured),
        r.injured_persons, r.insured_persons])) : '',
  );
  const years = series.years.map(formatYear);
  draw(trendBox, {
    tooltip: { trigger: 'axis', valueFormatter: formatRate },
    legend: { top: 0 },
    grid: GRID,
    xAxis: { type: 'category', data: years, name: t('overview.year') },
    yAxis: { type: 'value', name: t('overview.rateAxis'), nameTextStyle: { align: 'left' }, axisLabel: AXIS_LABEL },
    series: [
      { id: 'incidence', name: t('overview.rate'), type: 'line', data: series.rates, itemStyle: { color: '#0b5cad' },
        connectNulls: false },
      { id: 'target', name: t('overview.target'), type: 'line', data: series.years.map(() => series.targetRate),
        lineStyle: { type: 'dashed' }, itemStyle: { color: '#a40000' }, symbol: 'none' },
    ],
  }, registerChart);
  if (ranking.length) {
    // Highest first at the top: a horizontal bar chart lists categories bottom-up.
    const ordered = [...ranking].reverse();
    rankingBox.style.height = `${Math.max(200, 48 + ordered.length * 28)}px`;
    draw(rankingBox, {
      tooltip: { trigger: 'axis', valueFormatter: formatRate },
      grid: { ...GRID, top: 16 },
      xAxis: { type: 'value', axisLabel: AXIS_LABEL },
      yAxis: { type: 'category', data: ordered.map((r) => nameOf(tenants, r.key)) },
      series: [{ id: 'ranking', name: t('overview.rate'), type: 'bar', itemStyle: { color: '#0b5cad' },
        data: ordered.map((r) => r.incidence_per_100k_insured) }],
    }, registerChart);
  }
}
