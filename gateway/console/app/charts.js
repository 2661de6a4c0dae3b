// Shared pieces of the analytics pages: one ECharts instance per box (registered for the browser
// tests), the CST year, tenant names, and a plain data table beside every chart (the same figures
// for screen readers and for copying).
import * as echarts from '/console/vendor/echarts.esm.min.mjs';
import { h } from './dom.js';
import { formatNumber, locale } from './i18n.js';

export function currentYearCst() {
  return Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(new Date()));
}

export const tenantName = (tenant) => (locale() === 'en' ? tenant.display_name_en : tenant.display_name) || tenant.code;

/** A name for a tenant code from the tenants the page fetched (the code itself when unknown). */
export const nameOf = (tenants, code) => {
  const found = tenants.find((x) => x.code === code);
  return found ? tenantName(found) : code;
};

/** A chart box: `role=img` with a label, the table carries the figures in text. */
export function chartBox(id, label) {
  return h('div', { class: 'chart', id, role: 'img', 'aria-label': label });
}

/** Draws `option` in `box` (already in the document) and registers the chart under the box's id. */
export function draw(box, option, registerChart) {
  const chart = echarts.init(box, null, { renderer: 'canvas', locale: locale() === 'en' ? 'EN' : 'ZH' });
  registerChart(box.id, chart);
  chart.setOption({ aria: { enabled: true }, ...option }, true);
  new ResizeObserver(() => { if (!chart.isDisposed()) chart.resize(); }).observe(box);
  return chart;
}

/** Rates with at most two decimals in the locale's format; null reads as a dash. */
export const formatRate = (v) => (v === null || v === undefined ? '—'
  : new Intl.NumberFormat(locale(), { maximumFractionDigits: 2 }).format(v));

export const formatPct = (ratio) => (ratio === null || ratio === undefined ? '—'
  : new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(ratio));

/** A table: `columns` are header texts, `rows` arrays of cells (first cell the row header). */
export function dataTable(id, caption, columns, rows) {
  return h('div', { class: 'table-wrap' }, h('table', { id },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, h('th', { scope: 'row' }, cells[0]),
      cells.slice(1).map((c) => h('td', {}, typeof c === 'number' ? formatNumber(c) : c)))))));
}

/** Injured persons per 100,000 insured over several figures, as the API computes one (null: no exposure). */
export function pooledRate(figures) {
  let injured = 0;
  let insured = 0;
  for (const f of figures) { injured += f.injured_persons; insured += f.insured_persons; }
  return insured > 0 ? Math.round((injured * 100000 / insured) * 1000) / 1000 : null;
}

export const AXIS_LABEL = { formatter: (v) => formatNumber(v) };
export const GRID = { left: 8, right: 16, bottom: 8, top: 48, containLabel: true };
