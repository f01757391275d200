// The live dashboard: only the public REST API (/api/v1/views, /query, /status), plain SVG, no libraries.
'use strict';

const KEY_STORAGE = 'lambda.apiKey';
const REFRESH_MS = 3000;
const STATUS_MS = 10000;
const TOP_SERIES = 6;
/** Longest query URL the page sends (servers commonly refuse request lines over 8 KiB). */
const MAX_URL = 6000;
const MAX_POINTS = 360;
const UNIT_MS = { minute: 60e3, hour: 3600e3, day: 86400e3 };
const RANGE_MS = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3 };
const COLORS = ['#0550ae', '#cf222e', '#1a7f37', '#8250df', '#bc4c00', '#0a7b83', '#6e7781', '#bf3989'];
const SVG = 'http://www.w3.org/2000/svg';

const $ = (id) => document.getElementById(id);
const state = { views: [], refreshTimer: null, statusTimer: null, generation: 0 };

class KeyNeeded extends Error {}

async function api(path) {
  const headers = { Accept: 'application/json' };
  const key = sessionStorage.getItem(KEY_STORAGE);
  if (key) headers.Authorization = 'Bearer ' + key;
  const response = await fetch(path, { headers });
  let body = null;
  try { body = await response.json(); } catch (e) { /* not JSON */ }
  if (response.status === 401) {
    showKeyForm(body && body.error ? body.error.message : 'an API key is required');
    throw new KeyNeeded();
  }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : response.status + ' ' + response.statusText;
    throw new Error(message);
  }
  return body;
}

function showKeyForm(message) {
  $('key-form').hidden = false;
  $('key-form').querySelector('legend').textContent = 'API key needed: ' + message;
  $('api-key').focus();
}

function showError(message) {
  $('error').hidden = !message;
  $('error').textContent = message || '';
}

function currentView() {
  return state.views.find((v) => v.name === $('view').value);
}

function fillSelect(select, options, keep) {
  const previous = keep ? select.value : null;
  select.replaceChildren(...options.map(([value, label]) => new Option(label, value)));
  if (previous !== null && options.some(([value]) => value === previous)) select.value = previous;
}

function onViewChange() {
  const view = currentView();
  if (!view) return;
  fillSelect($('metric'), view.metrics.map((m) => [m.name, m.name + ' (' + m.type + (m.field ? ' of ' + m.field : '') + ')']), false);
  fillSelect($('group-by'), [['', 'none'], ...view.dimensions.map((d) => [d, d])], false);
  fillSelect($('filter-dimension'), [['', 'none'], ...view.dimensions.map((d) => [d, d])], false);
  fillSelect($('granularity'), [['auto', 'auto'], ...view.levels.map((l) => [l, l])], false);
  $('filter-values').value = '';
  refreshSoon(0);
}

/** The query's range on the view's base boundaries (the API asks that), and its granularity. */
function plan(view) {
  const unit = UNIT_MS[view.granularity];
  const floor = (t) => Math.floor(t / unit) * unit;
  let from;
  let to;
  if ($('range').value === 'custom') {
    from = floor(Date.parse($('from').value + 'Z'));
    to = floor(Date.parse($('to').value + 'Z') + unit - 1);
    if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) {
      throw new Error('choose a custom range: From must lie before To');
    }
  } else {
    to = floor(Date.now()) + unit;
    from = floor(to - Math.max(RANGE_MS[$('range').value], unit));
  }
  let granularity = $('granularity').value;
  if (granularity === 'auto') {
    granularity = view.levels.find((l) => (to - from) / UNIT_MS[l] <= MAX_POINTS) || view.levels[view.levels.length - 1];
  }
  return { from, to, granularity };
}

/**
 * The series query; with `groups`, only those values of the group-by dimension, so that many groups
 * times many buckets never make an answer too large to send.
 */
function queryPath(view, p, groups) {
  const params = new URLSearchParams({
    from: new Date(p.from).toISOString(), to: new Date(p.to).toISOString(),
    granularity: p.granularity, metrics: $('metric').value,
  });
  if ($('group-by').value) params.set('groupBy', $('group-by').value);
  const dimension = $('filter-dimension').value;
  const values = splitValues($('filter-values').value).map((v) => v.trim()).filter((v) => v);
  if (dimension && values.length) params.append('filter', dimension + ':' + values.join(','));
  if (groups) params.append('filter', $('group-by').value + ':' + groups.map(filterValue).join(','));
  return '/api/v1/views/' + encodeURIComponent(view.name) + '/query?' + params;
}

/**
 * Filter values as typed, in the API's form (commas between values, \, for a comma within one,
 * \\ for a backslash): split at the commas that separate, each value left as typed.
 */
function splitValues(text) {
  const values = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++; // what follows is part of the value
    else if (text[i] === ',') { values.push(text.slice(start, i)); start = i + 1; }
  }
  values.push(text.slice(start));
  return values;
}

/** A value as a filter names it: a comma or a backslash within it escaped with a backslash. */
function filterValue(value) {
  return value.replace(/[\\,]/g, (c) => '\\' + c);
}

/** The groups over the whole range, largest first: one row each. */
function rankingPath(view, p) {
  const path = queryPath(view, { ...p, granularity: 'all' });
  return path + '&orderBy=-' + encodeURIComponent($('metric').value);
}

function refreshSoon(delay) {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refresh, delay);
}

async function refresh() {
  const generation = ++state.generation;
  const view = currentView();
  try {
    if (!view) return;
    const p = plan(view);
    const group = $('group-by').value;
    let ranked = null;
    if (group) { // the top groups first, then their series alone
      const ranking = await api(rankingPath(view, p));
      if (generation !== state.generation) return;
      const names = ranking.rows.map((r) => r[group]);
      ranked = { top: names.slice(0, TOP_SERIES), count: names.length };
    }
    // very long values cannot fit a URL: then every group's series is asked for (the ranking still
    // decides which are drawn)
    let path = queryPath(view, p, null);
    if (ranked && ranked.count > TOP_SERIES) {
      const onlyTop = queryPath(view, p, ranked.top);
      if (onlyTop.length <= MAX_URL) path = onlyTop;
    }
    const answer = await api(path);
    if (generation !== state.generation) return; // a newer request owns the page
    showError(null);
    render(view, p, answer, ranked);
  } catch (e) {
    if (generation === state.generation && !(e instanceof KeyNeeded)) showError(e.message);
  } finally {
    if (generation === state.generation && $('live').checked) refreshSoon(REFRESH_MS);
  }
}

function age(ms) {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return s.toFixed(1) + ' s';
  if (s < 3600) return Math.round(s / 60) + ' min';
  if (s < 172800) return (s / 3600).toFixed(1) + ' h';
  return Math.round(s / 86400) + ' d';
}

function renderFreshness(freshness) {
  const badge = $('freshness');
  const now = Date.now();
  const cutoff = freshness.batchCutoff ? Date.parse(freshness.batchCutoff) : null;
  const through = freshness.speedThrough ? Date.parse(freshness.speedThrough) : null;
  const batchText = cutoff === null ? 'batch: none published yet' : 'batch cutoff ' + freshness.batchCutoff.replace('T', ' ').replace(/\.\d+Z|Z/, ' UTC')
      + ' (' + age(now - cutoff) + ' ago)';
  const speedText = through === null ? 'speed: no data' : 'speed data ' + age(now - through) + ' old';
  badge.textContent = batchText + ' · ' + speedText;
  badge.dataset.batchCutoff = freshness.batchCutoff || '';
  badge.dataset.speedThrough = freshness.speedThrough || '';
  const lag = through === null ? Infinity : now - through;
  badge.className = 'badge ' + (lag < 5000 ? 'ok' : lag < 60000 ? 'warn' : 'bad');
}

/** The series to draw: the ranked top groups when there is a ranking, else the largest by their buckets' sum. */
function seriesOf(view, p, answer, ranked) {
  const metric = $('metric').value;
  const group = $('group-by').value;
  const byName = new Map();
  for (const row of answer.rows) {
    const name = group ? (row[group] === '' ? '(none)' : row[group]) : metric;
    if (!byName.has(name)) byName.set(name, new Map());
    if (row[metric] !== null && row[metric] !== undefined) byName.get(name).set(Date.parse(row.bucket), Number(row[metric]));
  }
  const all = [...byName.entries()].map(([name, points]) => ({
    name, points, total: [...points.values()].reduce((a, b) => a + b, 0),
  }));
  if (ranked) {
    const rank = new Map(ranked.top.map((v, i) => [v === '' ? '(none)' : v, i]));
    const top = all.filter((s) => rank.has(s.name)).sort((a, b) => rank.get(a.name) - rank.get(b.name));
    return { shown: top, count: all.length };
  }
  all.sort((a, b) => b.total - a.total || a.name.localeCompare(b.name));
  return { shown: all.slice(0, TOP_SERIES), count: all.length };
}

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function niceMax(max) {
  if (max <= 0) return 1;
  const magnitude = Math.pow(10, Math.floor(Math.log10(max)));
  return [1, 2, 2.5, 5, 10].map((f) => f * magnitude).find((v) => v >= max);
}

function timeLabel(t, granularity) {
  const iso = new Date(t).toISOString();
  return granularity === 'day' ? iso.slice(5, 10) : granularity === 'hour' ? iso.slice(5, 10) + ' ' + iso.slice(11, 16) : iso.slice(11, 16);
}

function render(view, p, answer, ranked) {
  renderFreshness(answer.freshness);
  const metricSpec = view.metrics.find((m) => m.name === $('metric').value);
  const { shown, count: drawn } = seriesOf(view, p, answer, ranked);
  const count = ranked ? ranked.count : drawn;
  const step = UNIT_MS[p.granularity];
  const buckets = [];
  for (let t = Math.floor(p.from / step) * step; t < p.to; t += step) buckets.push(t);
  const fillZero = metricSpec.type === 'count' || metricSpec.type === 'sum' || metricSpec.type === 'distinct';

  const width = Math.max(320, $('chart').clientWidth || 960);
  const height = Math.round(Math.min(360, Math.max(220, width * 0.4)));
  const m = { top: 16, right: 16, bottom: 28, left: 56 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  let max = 0;
  shown.forEach((s) => s.points.forEach((v) => { max = Math.max(max, v); }));
  const yMax = niceMax(max);
  const x = (t) => m.left + ((t - p.from) / (p.to - p.from)) * w;
  const y = (v) => m.top + h - (v / yMax) * h;

  const svg = el('svg', { viewBox: '0 0 ' + width + ' ' + height, role: 'img' });
  const label = metricSpec.name + ' per ' + p.granularity + (shown.length > 1 ? ' by ' + $('group-by').value : '')
      + ', ' + shown.length + ' series, ' + new Date(p.from).toISOString() + ' to ' + new Date(p.to).toISOString();
  svg.setAttribute('aria-label', 'Line chart of ' + label);
  const cutoff = answer.freshness.batchCutoff ? Date.parse(answer.freshness.batchCutoff) : null;
  if (cutoff !== null && cutoff < p.to) {
    const start = Math.max(cutoff, p.from);
    el('rect', { class: 'speed-area', x: x(start), y: m.top, width: x(p.to) - x(start), height: h }, svg);
  }
  const grid = el('g', { class: 'grid axis' }, svg);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    el('line', { x1: m.left, x2: m.left + w, y1: y(v), y2: y(v) }, grid);
    const t = el('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, grid);
    t.textContent = Number.isInteger(v) ? v.toLocaleString('en') : v.toFixed(2);
  }
  const xAxis = el('g', { class: 'axis' }, svg);
  const ticks = Math.min(6, buckets.length);
  for (let i = 0; i < ticks; i++) {
    const t = buckets[Math.floor((i * buckets.length) / ticks)];
    const text = el('text', { x: x(t), y: height - 8, 'text-anchor': 'middle' }, xAxis);
    text.textContent = timeLabel(t, p.granularity);
  }
  shown.forEach((s, i) => {
    const parts = [];
    let pen = 'M';
    for (const t of buckets) {
      const v = s.points.has(t) ? s.points.get(t) : fillZero ? 0 : null;
      if (v === null) { pen = 'M'; continue; }
      parts.push(pen + x(t + step / 2).toFixed(1) + ',' + y(v).toFixed(1));
      pen = 'L';
    }
    const path = el('path', { class: 'series', d: parts.join(' '), stroke: COLORS[i % COLORS.length] }, svg);
    path.dataset.series = s.name;
  });
  if (cutoff !== null && cutoff > p.from && cutoff < p.to) {
    el('line', { class: 'cutoff', x1: x(cutoff), x2: x(cutoff), y1: m.top, y2: m.top + h }, svg);
    // the label goes on the side with more room
    const right = x(cutoff) < m.left + w / 2;
    const t = el('text', { class: 'cutoff-label', x: x(cutoff) + (right ? 4 : -4), y: m.top + 10, 'text-anchor': right ? 'start' : 'end' }, svg);
    t.textContent = 'batch | speed';
  }
  $('chart').replaceChildren(svg);

  $('chart-title').textContent = metricSpec.name + ' — ' + view.name;
  const cutoffNote = cutoff === null ? 'No batch generation yet: every value comes from the speed layer.'
      : cutoff <= p.from ? 'The whole range is after the batch cutoff: the speed layer answers it.'
      : cutoff >= p.to ? 'The whole range is before the batch cutoff: the batch answers it.'
      : 'Dashed line: the batch cutoff. Left of it the batch answers, right of it (shaded) the speed layer.';
  $('chart-note').textContent = (count > shown.length ? 'Top ' + shown.length + ' of ' + count + ' groups over the range. ' : '')
      + 'Granularity ' + p.granularity + ', read level ' + (answer.freshness.readLevel || p.granularity) + '. ' + cutoffNote;
  $('legend').replaceChildren(...shown.map((s, i) => {
    const li = document.createElement('li');
    li.style.setProperty('--swatch', COLORS[i % COLORS.length]);
    li.textContent = s.name + ' (' + s.total.toLocaleString('en') + ')';
    return li;
  }));
  renderTable(answer, metricSpec, count > shown.length ? shown.map((s) => s.name) : null);
}

/** @param drawn the groups the chart draws when it leaves some out (the table then lists theirs), else null */
function renderTable(answer, metricSpec, drawn) {
  const group = $('group-by').value;
  const head = document.createElement('tr');
  for (const [text, numeric] of [['bucket (UTC)', false], ...(group ? [[group, false]] : []), [metricSpec.name, true]]) {
    const th = document.createElement('th');
    th.scope = 'col';
    th.textContent = text;
    if (numeric) th.className = 'num';
    head.appendChild(th);
  }
  $('rows').tHead.replaceChildren(head);
  const only = drawn ? new Set(drawn) : null;
  const rows = [...answer.rows].filter((r) => !only || only.has(r[group] === '' ? '(none)' : r[group]))
      .sort((a, b) => b.bucket.localeCompare(a.bucket)
      || Number(b[metricSpec.name] ?? -Infinity) - Number(a[metricSpec.name] ?? -Infinity));
  const shown = rows.slice(0, 200);
  $('rows').tBodies[0].replaceChildren(...shown.map((row) => {
    const tr = document.createElement('tr');
    const cells = [row.bucket.replace('T', ' ').replace(':00Z', ''), ...(group ? [row[group]] : []), row[metricSpec.name]];
    cells.forEach((value, i) => {
      const td = document.createElement('td');
      td.textContent = value === null || value === undefined ? '—' : String(value);
      if (i === cells.length - 1) td.className = 'num';
      tr.appendChild(td);
    });
    return tr;
  }));
  $('rows-caption').textContent = rows.length === 0 ? 'No rows in this range.'
      : 'Newest first; ' + shown.length + ' of ' + rows.length + ' rows' + (only ? ' of the top ' + only.size + ' groups.' : '.');
}

async function refreshStatus() {
  try {
    const status = await api('/api/v1/status');
    const head = document.createElement('tr');
    ['view', 'batch cutoff (UTC)', 'built at (UTC)', 'events', 'duplicates dropped', 'rows', 'run took', 'speed lag', 'state']
      .forEach((text) => { const th = document.createElement('th'); th.scope = 'col'; th.textContent = text; head.appendChild(th); });
    $('status').tHead.replaceChildren(head);
    const fmt = (t) => (t ? t.replace('T', ' ').replace(/\.\d+Z|Z/, '') : '—');
    const num = (n) => (n === null || n === undefined ? '—' : Number(n).toLocaleString('en'));
    $('status').tBodies[0].replaceChildren(...status.views.map((v) => {
      const tr = document.createElement('tr');
      [v.view, fmt(v.batchCutoff), fmt(v.batchBuiltAt), num(v.batchEventsIn), num(v.batchDuplicatesDropped), num(v.batchRowsWritten),
        v.batchDurationMs === null || v.batchDurationMs === undefined ? '—' : (v.batchDurationMs / 1000).toFixed(1) + ' s',
        v.speedLagSeconds === null || v.speedLagSeconds === undefined ? '—' : age(v.speedLagSeconds * 1000),
        [(v.speedPartitionsWithoutThisVersion || []).length
          ? 'speed layer runs another version on partitions ' + v.speedPartitionsWithoutThisVersion.join(', ') : null,
        v.speedRowsMayHaveExpired ? 'batch overdue: speed rows may have expired' : v.batchOverdue ? 'batch overdue' : null]
          .filter((alert) => alert).join('; ') || 'ok']
        .forEach((text) => { const td = document.createElement('td'); td.textContent = text; tr.appendChild(td); });
      return tr;
    }));
    const speed = status.speed || {};
    const dlq = speed.deadLetters || {};
    const reasons = Object.keys(dlq).sort().map((r) => r + ' ' + num(dlq[r])).join(', ');
    $('speed-status').textContent = 'Speed layer: dead letters: ' + (reasons || 'none')
      + (speed.duplicatesDropped === undefined ? '' : '; duplicates dropped ' + num(speed.duplicatesDropped)) + '.';
  } catch (e) {
    if (!(e instanceof KeyNeeded)) $('speed-status').textContent = 'Status unavailable: ' + e.message;
  } finally {
    clearTimeout(state.statusTimer);
    state.statusTimer = setTimeout(refreshStatus, STATUS_MS);
  }
}

async function start() {
  try {
    const catalog = await api('/api/v1/views');
    state.views = catalog.views;
    fillSelect($('view'), state.views.map((v) => [v.name, v.name]), true);
    $('key-form').hidden = true;
    showError(state.views.length ? null : 'The server has no views.');
    onViewChange();
    refreshStatus();
  } catch (e) {
    if (!(e instanceof KeyNeeded)) showError(e.message);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, $('api-key').value.trim());
    $('api-key').value = '';
    start();
  });
  $('controls').addEventListener('submit', (event) => event.preventDefault());
  $('view').addEventListener('change', onViewChange);
  $('range').addEventListener('change', () => {
    const custom = $('range').value === 'custom';
    document.querySelectorAll('.field.custom').forEach((f) => { f.hidden = !custom; });
    if (custom && !$('from').value) {
      const now = Date.now();
      $('from').value = new Date(now - 86400e3).toISOString().slice(0, 16);
      $('to').value = new Date(now).toISOString().slice(0, 16);
    }
    refreshSoon(0);
  });
  for (const id of ['granularity', 'metric', 'group-by', 'filter-dimension', 'from', 'to']) {
    $(id).addEventListener('change', () => refreshSoon(0));
  }
  $('filter-values').addEventListener('input', () => refreshSoon(400));
  $('live').addEventListener('change', () => { if ($('live').checked) refreshSoon(0); else clearTimeout(state.refreshTimer); });
  window.addEventListener('resize', () => refreshSoon(200));
  start();
});
