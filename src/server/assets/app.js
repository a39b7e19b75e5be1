// app.js - firn's dashboard: overview, tables, data browser, untrusted rows.
// Plain JS and SVG, no library, no network beyond this server's /api/v1.
'use strict';

const errors = [];
function recordError(msg) {
  errors.push(String(msg));
  const el = document.getElementById('errors');
  if (el) { el.textContent = errors.join('\n'); el.dataset.count = errors.length; }
}
window.addEventListener('error', e => recordError(e.message || 'error'));
window.addEventListener('unhandledrejection', e => recordError((e.reason && e.reason.message) || e.reason));

const $app = document.getElementById('app');
const $status = document.getElementById('status');
let timer = null;
let generation = 0;

// ---------------------------------------------------------------- helpers

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}
const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...kids) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const kid of kids.flat()) el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return el;
}

// Big integers (snapshot ids) stay exact: kept as their source text.
function parseJSON(text) {
  return JSON.parse(text, function (k, v, ctx) {
    if (typeof v === 'number' && !Number.isSafeInteger(v) && ctx && typeof ctx.source === 'string' &&
        /^-?\d+$/.test(ctx.source)) return ctx.source;
    return v;
  });
}

async function api(path) {
  const headers = {};
  const token = localStorage.getItem('firn-token');
  if (token) headers.Authorization = 'Bearer ' + token;
  const r = await fetch('/api/v1' + path, { headers });
  if (r.status === 401) {
    const t = window.prompt('This firn server asks for a token:');
    if (t) { localStorage.setItem('firn-token', t); return api(path); }
  }
  const body = parseJSON(await r.text());
  if (!r.ok) throw new Error(body.error || ('HTTP ' + r.status));
  return body;
}

const fmt = n => (n === null || n === undefined) ? '–' : Number(n).toLocaleString('en-US');
function bytes(n) {
  if (!n) return '0 B';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + u[i];
}
const when = ms => ms ? new Date(Number(ms)).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '–';
function ago(sec) {
  if (sec === null || sec === undefined) return '–';
  if (sec < 120) return sec.toFixed(1) + ' s';
  if (sec < 7200) return (sec / 60).toFixed(1) + ' min';
  if (sec < 172800) return (sec / 3600).toFixed(1) + ' h';
  return (sec / 86400).toFixed(1) + ' d';
}
const tableLink = name => h('a', { href: '#/table/' + encodeURIComponent(name) }, name);
const palette = ['#2b6cb0', '#2f855a', '#dd6b20', '#805ad5', '#c53030', '#319795', '#b7791f', '#d53f8c'];

function setStatus(text) { $status.textContent = text; }
function fail(e) {
  recordError(e.message || e);
  $app.replaceChildren(h('p', { class: 'err' }, 'Could not load: ' + (e.message || e)));
}
function grid(headers, rows, attrs) {
  return h('div', { class: 'scroll' }, h('table', attrs || {},
    h('thead', {}, h('tr', {}, headers.map(c => h('th', { class: c.num ? 'num' : null }, c.label || c)))),
    h('tbody', {}, rows)));
}

// ---------------------------------------------------------------- chart

// Rows over time: one line per table, one point per commit (firn.commits) or
// per snapshot where no history exists.
function lineChart(series, opts) {
  const W = 760, H = opts.height || 260, L = 58, R = 12, T = 12, B = 30;
  let xmin = Infinity, xmax = -Infinity, ymax = 0;
  for (const sr of series) for (const [x, y] of sr.points) {
    xmin = Math.min(xmin, x); xmax = Math.max(xmax, x); ymax = Math.max(ymax, y);
  }
  const svg = s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
                         'aria-label': opts.label, 'data-chart': opts.id });
  if (!isFinite(xmin)) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, opts.empty || 'no commits yet'));
    return svg;
  }
  if (xmax === xmin) { xmin -= 1000; xmax += 1000; }
  if (ymax === 0) ymax = 1;
  const X = x => L + (x - xmin) / (xmax - xmin) * (W - L - R);
  const Y = y => H - B - y / ymax * (H - T - B);
  for (let i = 0; i <= 4; i++) {
    const v = ymax * i / 4, y = Y(v);
    svg.append(s('line', { x1: L, x2: W - R, y1: y, y2: y, stroke: '#e2e8f0' }));
    svg.append(s('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, ymax < 10 ? v.toFixed(1) : fmt(Math.round(v))));
  }
  svg.append(s('text', { x: L, y: H - 8 }, when(xmin)));
  svg.append(s('text', { x: W - R, y: H - 8, 'text-anchor': 'end' }, when(xmax)));
  series.forEach((sr, i) => {
    const color = palette[i % palette.length];
    const d = sr.points.map(([x, y], k) => (k ? 'L' : 'M') + X(x).toFixed(1) + ' ' + Y(y).toFixed(1)).join(' ');
    svg.append(s('path', { d, fill: 'none', stroke: color, 'stroke-width': 2 }));
    if (opts.dots !== false) for (const [x, y] of sr.points)
      svg.append(s('circle', { class: 'pt', cx: X(x).toFixed(1), cy: Y(y).toFixed(1), r: 3, fill: color,
                               'data-table': sr.name, 'data-rows': y },
                   s('title', {}, `${sr.name}: ${fmt(y)} rows at ${when(x)}`)));
  });
  return svg;
}

function legend(series) {
  return h('div', { class: 'legend' }, series.map((sr, i) =>
    h('span', {}, h('i', { style: `background:${palette[i % palette.length]}` }), sr.name)));
}

// ---------------------------------------------------------------- overview

async function overview(gen) {
  const [o, p] = await Promise.all([api('/overview'), api('/pipeline')]);
  if (gen !== generation) return;
  const series = [];
  if (o.commits) {
    const acc = {};
    for (const c of o.commits) {
      const name = c.table_name;
      if (!acc[name]) { acc[name] = { name, total: 0, points: [] }; series.push(acc[name]); }
      const a = acc[name];
      a.total += Number(c.rows_trusted) + Number(c.rows_dead_letter);
      a.points.push([Number(c.committed_at_ms), a.total]);
    }
  } else {
    for (const [name, pts] of Object.entries(o.snapshot_series))
      if (pts.length) series.push({ name, points: pts.map(([x, y]) => [Number(x), Number(y)]) });
  }
  series.sort((a, b) => a.name.localeCompare(b.name));
  const t = o.totals;
  const cards = h('div', { class: 'cards' },
    card('trusted rows', fmt(t.trusted), 'trusted'),
    card('untrusted rows', fmt(t.untrusted), 'untrusted'),
    card('dead letters', fmt(t.dead_letter), 'dead_letter'),
    card('failed audits', fmt(t.failed_audits), 'failed_audits'),
    card('freshness', ago(o.freshness_s), 'freshness'),
    card('ingested over HTTP', fmt(o.ingest.accepted), 'ingested'),
    card('rows committed / s', rate(p.ingest.rows_per_s), 'rows_rate'),
    card('HTTP events / s', rate(p.ingest.http_events_per_s), 'http_rate'),
    card('commits', fmt(o.commits ? o.commits.length : 0), 'commits'));
  const per = Object.entries(o.per_table).sort();
  const trust = grid(['table', { label: 'trusted', num: 1 }, { label: 'untrusted', num: 1 },
                      { label: 'dead letter', num: 1 }, ''],
    per.map(([name, p]) => {
      const all = p.trusted + p.untrusted + p.dead_letter || 1;
      return h('tr', { 'data-table': name },
        h('td', {}, tableLink(name)), h('td', { class: 'num' }, fmt(p.trusted)),
        h('td', { class: 'num' }, fmt(p.untrusted)), h('td', { class: 'num' }, fmt(p.dead_letter)),
        h('td', {}, h('div', { class: 'bar', title: 'trusted / untrusted / dead letter' },
          h('span', { class: 't', style: `width:${100 * p.trusted / all}%` }),
          h('span', { class: 'u', style: `width:${100 * p.untrusted / all}%` }),
          h('span', { class: 'd', style: `width:${100 * p.dead_letter / all}%` }))));
    }));
  const tables = tableList(o.tables);
  $app.replaceChildren(
    h('h1', {}, 'Overview'), cards,
    h('h2', {}, 'Rows over time'),
    h('div', { class: 'panel' }, legend(series), lineChart(series, { id: 'rows-over-time', label: 'rows over time per table' }),
      h('p', { class: 'muted' }, o.commits ? 'One point per publish, from firn.commits.' :
        'One point per snapshot (no firn.commits table).')),
    h('h2', {}, 'Trusted, untrusted and dead-letter rows per table'), h('div', { class: 'panel' }, trust),
    ...operations(p),
    h('h2', {}, 'Tables'), h('div', { class: 'panel' }, tables));
  setStatus('updated ' + new Date().toLocaleTimeString());
}

const rate = v => (v === null || v === undefined) ? '–' : Number(v).toFixed(Number(v) >= 100 ? 0 : 1);
const secs = v => (v === null || v === undefined) ? '–' : Number(v).toFixed(3) + ' s';
const none = text => h('p', { class: 'muted' }, text);

// The operations panels of the overview, from /api/v1/pipeline (the metrics
// registry that firn run feeds): ingest rate, freshness, source lag,
// maintenance runs, failed audits.
function operations(p) {
  const ing = p.ingest;
  const rateSeries = [
    { name: 'rows committed / s', points: ing.series.map(([t, , r]) => [Number(t), r]) },
    { name: 'HTTP events / s', points: ing.series.map(([t, hh]) => [Number(t), hh]) }];
  const ratePanel = h('div', { class: 'panel', id: 'ingest-rate', 'data-rows-total': ing.rows_committed_total,
                               'data-http-total': ing.http_events_total },
    legend(rateSeries), lineChart(ing.series.length ? rateSeries : [], { id: 'ingest-rate', label: 'ingest rate', dots: false, height: 180, empty: 'collecting samples…' }),
    h('p', { class: 'muted' }, `Now: ${rate(ing.rows_per_s)} rows/s committed, ${rate(ing.http_events_per_s)} events/s over ` +
      `HTTP (last ${rate(ing.window_s)} s); in total ${fmt(ing.rows_committed_total)} rows and ` +
      `${fmt(ing.http_events_total)} HTTP events since this process started.`));
  const fresh = p.freshness.length ? grid(['table', { label: 'append → visible', num: 1 },
      { label: 'mean commit', num: 1 }, { label: 'commits', num: 1 }],
    p.freshness.map(f => h('tr', { 'data-fresh-table': f.table, 'data-seconds': f.seconds },
      h('td', {}, f.table ? tableLink(f.table) : '–'), h('td', { class: 'num' }, secs(f.seconds)),
      h('td', { class: 'num' }, secs(f.mean_s)), h('td', { class: 'num' }, fmt(f.commits)))), { id: 'freshness' })
    : none('No publish by this process yet (firn run feeds freshness).');
  const lag = p.source_lag.length ? grid(['topic', { label: 'partition', num: 1 }, { label: 'records behind', num: 1 }],
    p.source_lag.map(l => h('tr', { 'data-lag-topic': l.topic, 'data-lag-partition': l.partition, 'data-lag': l.records,
                                    class: l.records > 0 ? 'behind' : null },
      h('td', {}, l.topic), h('td', { class: 'num' }, l.partition), h('td', { class: 'num' }, fmt(l.records)))), { id: 'source-lag' })
    : none('No source lag measured (firn run measures it every 2 s).');
  const m = p.maintenance;
  const totals = m.totals.length ? grid(['table', 'operation', { label: 'runs', num: 1 }, { label: 'failures', num: 1 },
      { label: 'reclaimed', num: 1 }, { label: 'files removed', num: 1 }, { label: 'files rewritten', num: 1 },
      { label: 'last run', num: 0 }, { label: 'took', num: 1 }],
    m.totals.map(x => h('tr', { 'data-maint-table': x.table, 'data-maint-op': x.op, 'data-runs': x.runs ?? 0,
                                'data-bytes': x.bytes_reclaimed ?? 0, 'data-files-removed': x.files_removed ?? 0 },
      h('td', {}, x.table ? tableLink(x.table) : '–'), h('td', {}, x.op), h('td', { class: 'num' }, fmt(x.runs ?? 0)),
      h('td', { class: 'num' }, fmt(x.failures ?? 0)), h('td', { class: 'num' }, bytes(x.bytes_reclaimed)),
      h('td', { class: 'num' }, fmt(x.files_removed ?? 0)), h('td', { class: 'num' }, fmt(x.files_rewritten ?? 0)),
      h('td', {}, x.last_run_s ? when(x.last_run_s * 1000) : '–'), h('td', { class: 'num' }, secs(x.last_duration_s)))),
    { id: 'maintenance' }) : none('No maintenance run by this process yet.');
  const recent = m.recent.length ? grid(['when', 'table', 'operation', { label: 'reclaimed', num: 1 },
      { label: 'files removed', num: 1 }, { label: 'snapshots expired', num: 1 }, { label: 'rewritten', num: 1 },
      { label: 'took', num: 1 }],
    m.recent.slice(0, 12).map(x => h('tr', { 'data-run-table': x.table, 'data-run-op': x.op },
      h('td', {}, when(x.at_ms)), h('td', {}, tableLink(x.table)), h('td', {}, x.op),
      h('td', { class: 'num' }, bytes(x.bytes_reclaimed)), h('td', { class: 'num' }, fmt(x.files_removed)),
      h('td', { class: 'num' }, fmt(x.snapshots_expired)), h('td', { class: 'num' }, fmt(x.files_rewritten)),
      h('td', { class: 'num' }, x.duration_ms + ' ms'))), { id: 'maintenance-runs' }) : null;
  const a = p.audits;
  const audits = h('div', { class: 'panel', id: 'audits', 'data-failed': a.failed_total },
    h('p', {}, `${fmt(a.failed_total)} failed audit${a.failed_total === 1 ? '' : 's'} in firn.commits` +
      (a.by_table.length ? '; counted by this process: ' + a.by_table.map(x => `${x.table} ${fmt(x.failures)}`).join(', ') : '.')),
    a.failed.length ? grid(['when', 'table', 'outcome', 'audit', { label: 'rows', num: 1 }],
      a.failed.map(f => h('tr', { 'data-failed-table': f.table_name },
        h('td', {}, when(f.committed_at_ms)), h('td', {}, f.table_name ? tableLink(f.table_name) : '–'),
        h('td', {}, f.outcome), h('td', { class: 'wrap' }, f.audit ?? ''), h('td', { class: 'num' }, fmt(f.rows_trusted))))) : null);
  return [
    h('h2', {}, 'Ingest rate'), ratePanel,
    h('div', { class: 'cols' },
      h('div', {}, h('h2', {}, 'Freshness (append to visible on main)'), h('div', { class: 'panel' }, fresh)),
      h('div', {}, h('h2', {}, 'Source lag per topic and partition'), h('div', { class: 'panel' }, lag))),
    h('h2', {}, 'Maintenance'), h('div', { class: 'panel' }, totals, recent ? h('h3', {}, 'Last runs') : null, recent),
    h('h2', {}, 'Failed audits'), audits];
}

function card(k, v, id) {
  return h('div', { class: 'card', 'data-card': id }, h('div', { class: 'v' }, v), h('div', { class: 'k' }, k));
}

function tableList(tables) {
  return grid(['table', { label: 'rows', num: 1 }, { label: 'snapshots', num: 1 }, { label: 'files', num: 1 },
               { label: 'avg file', num: 1 }, 'last change', ''],
    tables.map(t => h('tr', { 'data-table': t.name },
      h('td', {}, tableLink(t.name)),
      h('td', { class: 'num', 'data-count': 'rows' }, fmt(t.rows)),
      h('td', { class: 'num', 'data-count': 'snapshots' }, fmt(t.snapshots)),
      h('td', { class: 'num', 'data-count': 'files' }, fmt(t.files)),
      h('td', { class: 'num' }, bytes(t.avg_file_bytes)),
      h('td', {}, when(t.last_updated_ms)),
      h('td', {}, h('a', { href: '#/data/' + encodeURIComponent(t.name) }, 'rows')))));
}

async function tablesPage(gen) {
  const r = await api('/tables');
  if (gen !== generation) return;
  $app.replaceChildren(h('h1', {}, 'Tables'), h('div', { class: 'panel' }, tableList(r.tables)));
  setStatus('updated ' + new Date().toLocaleTimeString());
}

// ---------------------------------------------------------------- table page

async function tablePage(gen, name) {
  const q = encodeURIComponent(name);
  const [t, sn, files, parts] = await Promise.all([api('/tables/' + q), api('/tables/' + q + '/snapshots?limit=200'),
    api('/tables/' + q + '/files'), api('/tables/' + q + '/partitions')]);
  if (gen !== generation) return;
  const schema = grid(['id', 'name', 'type', 'required'], t.schema.fields.map(f =>
    h('tr', { 'data-field-id': f.id }, h('td', { class: 'num' }, f.id), h('td', {}, f.name),
      h('td', {}, typeof f.type === 'string' ? f.type : JSON.stringify(f.type)), h('td', {}, f.required ? 'yes' : ''))));
  const spec = t.partition_spec.fields.length ? grid(['field id', 'name', 'source', 'transform'],
    t.partition_spec.fields.map(f => h('tr', {}, h('td', { class: 'num' }, f.field_id), h('td', {}, f.name),
      h('td', {}, f.source), h('td', {}, f.transform)))) : h('p', { class: 'muted' }, 'unpartitioned');
  const props = grid(['property', 'value'], Object.entries(t.properties).map(([k, v]) =>
    h('tr', {}, h('td', {}, k), h('td', { class: 'wrap' }, v))));
  const refs = grid(['ref', 'type', 'snapshot'], t.refs.map(r => h('tr', { 'data-ref': r.name },
    h('td', {}, r.name), h('td', {}, r.type), h('td', {}, String(r.snapshot_id)))));
  const snaps = grid(['snapshot', 'parent', 'committed', 'operation', { label: 'added rows', num: 1 },
                      { label: 'total rows', num: 1 }, ''],
    sn.snapshots.map(x => h('tr', { 'data-snapshot': x.snapshot_id },
      h('td', {}, String(x.snapshot_id)), h('td', {}, x.parent_id === null ? '–' : String(x.parent_id)),
      h('td', {}, when(x.timestamp_ms)), h('td', {}, x.operation || ''),
      h('td', { class: 'num' }, fmt(x.summary['added-records'])),
      h('td', { class: 'num' }, fmt(x.summary['total-records'])),
      h('td', {}, h('a', { href: `#/data/${q}?snapshot=${x.snapshot_id}` }, 'rows')))), { id: 'snapshots' });
  const fileList = grid(['file', 'partition', { label: 'rows', num: 1 }, { label: 'size', num: 1 }],
    files.files.slice(0, 500).map(f => h('tr', {}, h('td', { class: 'wrap' }, f.path.split('/').slice(-2).join('/')),
      h('td', {}, JSON.stringify(f.partition)), h('td', { class: 'num' }, fmt(f.record_count)),
      h('td', { class: 'num' }, bytes(f.file_size_in_bytes)))));
  const partList = grid(['partition', { label: 'rows', num: 1 }, { label: 'files', num: 1 }, { label: 'size', num: 1 }],
    parts.partitions.map(p => h('tr', {}, h('td', {}, JSON.stringify(p.partition)),
      h('td', { class: 'num' }, fmt(p.record_count)), h('td', { class: 'num' }, fmt(p.file_count)),
      h('td', { class: 'num' }, bytes(p.total_bytes)))));
  const pick = h('select', { name: 'target' },
    t.refs.map(r => h('option', { value: 'ref=' + encodeURIComponent(r.name) }, `${r.type} ${r.name}`)),
    sn.snapshots.map(x => h('option', { value: 'snapshot=' + x.snapshot_id }, `snapshot ${x.snapshot_id} (${when(x.timestamp_ms)})`)));
  const travel = h('form', { class: 'filter', onsubmit: e => { e.preventDefault(); location.hash = `#/data/${q}?${pick.value}`; } },
    pick, h('button', { type: 'submit' }, 'See rows'));
  $app.replaceChildren(
    h('h1', {}, name),
    h('div', { class: 'cards' }, card('rows', fmt(t.rows), 'rows'), card('snapshots', fmt(t.snapshots), 'snapshots'),
      card('data files', fmt(t.files), 'files'), card('avg file size', bytes(t.avg_file_bytes), 'avg'),
      card('format version', t.format_version, 'fv')),
    h('p', { class: 'muted' }, 'location ', h('code', {}, t.location)),
    h('h2', {}, 'Time travel'), h('div', { class: 'panel' }, travel),
    h('h2', {}, 'Schema (id ' + t.schema.schema_id + ')'), h('div', { class: 'panel' }, schema),
    h('h2', {}, 'Partition spec'), h('div', { class: 'panel' }, spec),
    h('h2', {}, 'Refs'), h('div', { class: 'panel' }, refs),
    h('h2', {}, `Snapshots (${fmt(sn.total)}, newest first)`), h('div', { class: 'panel' }, snaps),
    h('h2', {}, 'Partitions'), h('div', { class: 'panel' }, partList),
    h('h2', {}, `Data files (${fmt(files.files.length)})`), h('div', { class: 'panel' }, fileList),
    h('h2', {}, 'Properties'), h('div', { class: 'panel' }, props));
  setStatus('updated ' + new Date().toLocaleTimeString());
}

// ---------------------------------------------------------------- data browser

async function dataPage(gen, name, params) {
  if (!name) {
    const r = await api('/tables');
    if (gen !== generation) return;
    $app.replaceChildren(h('h1', {}, 'Data'), h('p', {}, 'Pick a table:'),
      h('ul', {}, r.tables.map(t => h('li', {}, h('a', { href: '#/data/' + encodeURIComponent(t.name) }, t.name)))));
    return;
  }
  const q = new URLSearchParams();
  for (const k of ['where', 'snapshot', 'ref', 'limit']) if (params.get(k)) q.set(k, params.get(k));
  if (!q.get('limit')) q.set('limit', '50');
  const r = await api('/tables/' + encodeURIComponent(name) + '/rows?' + q.toString());
  if (gen !== generation) return;
  const form = h('form', { class: 'filter', onsubmit: e => {
      e.preventDefault();
      const p = new URLSearchParams();
      const fd = new FormData(e.target);
      for (const [k, v] of fd.entries()) if (v) p.set(k, v);
      location.hash = '#/data/' + encodeURIComponent(name) + '?' + p.toString();
    } },
    h('input', { name: 'where', placeholder: "filter, e.g. carId = '12GA3456' and slotId > 10", value: params.get('where') || '' }),
    h('input', { name: 'limit', type: 'number', min: 1, max: 1000, value: q.get('limit'), style: 'width:6rem' }),
    params.get('snapshot') ? h('input', { type: 'hidden', name: 'snapshot', value: params.get('snapshot') }) : null,
    params.get('ref') ? h('input', { type: 'hidden', name: 'ref', value: params.get('ref') }) : null,
    h('button', { type: 'submit' }, 'Filter'));
  const cols = r.fields.filter(f => f.type === 'binary').concat(r.fields.filter(f => f.type !== 'binary')).map(f => f.name);
  const rows = r.rows.map(row => h('tr', {}, cols.map(c => {
    const v = row[c];
    const f = r.fields.find(x => x.name === c);
    if (f.type === 'binary') {
      if (!v) return h('td', {}, '–');
      const img = h('img', { class: 'thumb', src: v, alt: c, loading: 'lazy' });
      img.addEventListener('load', () => { img.dataset.natural = img.naturalWidth + 'x' + img.naturalHeight; });
      img.addEventListener('error', () => { img.dataset.natural = 'error'; });
      return h('td', {}, h('a', { href: v, target: '_blank' }, img));
    }
    const text = v === null ? '–' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return h('td', { class: text.length > 60 ? 'wrap' : null }, text);
  })));
  $app.replaceChildren(
    h('h1', {}, 'Rows of ', tableLink(name)),
    h('p', { class: 'muted' }, `snapshot ${r.snapshot_id === null ? '(none)' : r.snapshot_id}` +
      (params.get('ref') ? ` (ref ${params.get('ref')})` : '') + ` · ${fmt(r.matched)} matching rows, ` +
      `showing the ${r.order === 'desc' ? 'latest' : 'first'} ${fmt(r.rows.length)}`),
    form, h('div', { class: 'panel' }, grid(cols, rows, { id: 'rows', 'data-matched': r.matched })));
  setStatus('updated ' + new Date().toLocaleTimeString());
}

// ---------------------------------------------------------------- untrusted

async function untrustedPage(gen) {
  const r = await api('/untrusted?limit=3');
  if (gen !== generation) return;
  const parts = [h('h1', {}, 'Untrusted rows by failed rule')];
  if (!r.tables.length) parts.push(h('p', { class: 'muted' }, 'No untrusted table yet.'));
  for (const t of r.tables) {
    parts.push(h('h2', {}, tableLink(t.table), ` · ${fmt(t.rows)} rows`));
    const groups = t.groups.slice().sort((a, b) => b.count - a.count);
    parts.push(h('div', { class: 'panel' }, grid(['rule', { label: 'rows', num: 1 }, 'samples (raw payload)'],
      groups.map(g => h('tr', { 'data-rule': g.rule, 'data-table': t.table },
        h('td', { class: 'rule' }, g.rule), h('td', { class: 'num' }, fmt(g.count)),
        h('td', { class: 'wrap' }, g.samples.map(x => h('pre', {},
          `${x.source_topic || ''}:${x.source_partition ?? ''}@${x.source_offset ?? ''}  ${x.payload || ''}`))))))));
  }
  $app.replaceChildren(...parts);
  setStatus('updated ' + new Date().toLocaleTimeString());
}

// ---------------------------------------------------------------- router

function route() {
  const gen = ++generation;
  clearInterval(timer);
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const page = parts[0] || 'overview';
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.dataset.nav === page ||
    (page === 'table' && a.dataset.nav === 'tables')));
  let load;
  if (page === 'overview') load = () => overview(gen);
  else if (page === 'tables') load = () => tablesPage(gen);
  else if (page === 'table' && parts[1]) load = () => tablePage(gen, parts[1]);
  else if (page === 'data') load = () => dataPage(gen, parts[1], params);
  else if (page === 'untrusted') load = () => untrustedPage(gen);
  else { $app.replaceChildren(h('p', { class: 'err' }, 'No such page.')); return; }
  const run = () => load().then(() => { document.body.dataset.ready = page; }).catch(fail);
  run();
  // live updates: pages without form state poll the server
  const every = { overview: 5000, tables: 10000, untrusted: 15000 }[page];
  if (every) timer = setInterval(() => { if (gen === generation) load().catch(e => setStatus('update failed: ' + e.message)); }, every);
}

window.addEventListener('hashchange', route);
route();
