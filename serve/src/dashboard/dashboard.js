// tern dashboard: reads the /v1/ API with the token the user signs in with.
// Every piece of server or guest text goes into the page as text (textContent), never as HTML.
import { HOUR_MS, buckets, latencyChart, rateChart } from './charts.js';

(() => {
  const TOKEN_KEY = 'tern.token';
  const MAX_RECORDS = 2000;
  const MAX_TAIL = 200;
  const $ = (id) => document.getElementById(id);

  let whoami = null; // { id, name, scope } of the signed-in token
  let view = null; // AbortController of the view on screen: leaving it stops its requests and timers

  // ---- small helpers -------------------------------------------------------------------------

  /** An element with text content and attributes; children are elements or strings (as text). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'class') node.className = v;
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  function slot(root, name) {
    return root.querySelector(`[data-slot="${name}"]`);
  }

  function fromTemplate(id) {
    return $(id).content.cloneNode(true);
  }

  function time(ms) {
    return ms ? new Date(ms).toLocaleString() : '—';
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString();
  }

  function ago(ms) {
    if (!ms) return '—';
    const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (s < 60) return `${s}s ago`;
    if (s < 3600) return `${Math.round(s / 60)}m ago`;
    if (s < 86400) return `${Math.round(s / 3600)}h ago`;
    return `${Math.round(s / 86400)}d ago`;
  }

  function duration(seconds) {
    const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24;
    const m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${s}s` : `${s}s`;
  }

  function bytes(n) {
    if (n === undefined || n === null) return '—';
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return `${i ? n.toFixed(1) : n} ${units[i]}`;
  }

  function number(n) {
    return n === undefined || n === null ? '—' : Number(n).toLocaleString();
  }

  /** A run id short enough for a table: server ids end in a counter, API ids are random. */
  function shortId(id) {
    return id.length <= 16 ? id : `…${id.slice(-12)}`;
  }

  function compact(value) {
    return typeof value === 'string' ? value : JSON.stringify(value);
  }

  // ---- the API -------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  /** A request to the API with the bearer token; a 401 signs out. */
  async function api(path, options = {}, bearer = token()) {
    const resp = await fetch(path, {
      ...options,
      headers: { Authorization: `Bearer ${bearer}`, ...(options.headers || {}) },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    if (resp.status === 401) {
      if (bearer === token()) signOut('The server did not accept the token (wrong or revoked). Sign in again.');
      throw new ApiError(401, 'unauthorized');
    }
    if (!resp.ok) {
      const body = await resp.json().catch(() => ({}));
      throw new ApiError(resp.status, body.error || `${resp.status} ${resp.statusText}`);
    }
    return resp;
  }

  async function apiJson(path, options) {
    return (await api(path, options)).json();
  }

  /** Calls `onRecord` for each NDJSON line of a streamed response, as the lines arrive. */
  async function readNdjson(resp, onRecord) {
    const reader = resp.body.getReader();
    const decoder = new TextDecoder();
    let pending = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      let newline;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        if (line.trim()) onRecord(JSON.parse(line));
      }
    }
    if (pending.trim()) onRecord(JSON.parse(pending));
  }

  function canDeploy() {
    return whoami && (whoami.scope === 'deploy' || whoami.scope === 'admin');
  }

  // ---- sign-in -------------------------------------------------------------------------------

  function showSignedIn(signedIn) {
    $('signin').hidden = signedIn;
    $('nav').hidden = !signedIn;
    $('who').hidden = !signedIn;
    $('signout').hidden = !signedIn;
    $('view').hidden = !signedIn;
    if (signedIn) $('who').textContent = `${whoami.name || whoami.id} · ${whoami.scope}`;
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    whoami = null;
    if (view) view.abort();
    view = null;
    $('view').replaceChildren();
    showError(null);
    $('signin-error').textContent = message || '';
    showSignedIn(false);
    $('token').focus();
  }

  async function signIn(event) {
    event.preventDefault();
    const input = $('token');
    const candidate = input.value.trim();
    $('signin-error').textContent = '';
    try {
      const resp = await api('/v1/whoami', {}, candidate);
      whoami = await resp.json();
      sessionStorage.setItem(TOKEN_KEY, candidate);
      input.value = '';
      showSignedIn(true);
      render();
    } catch (e) {
      $('signin-error').textContent = e.status === 401
        ? 'That token was not accepted.'
        : `Could not sign in: ${e.message}`;
      input.select();
    }
  }

  function showError(message) {
    $('error').hidden = !message;
    $('error').textContent = message || '';
  }

  // ---- records and their figures -----------------------------------------------------------

  function isTimeout(r) {
    return r.status === 504 || /time[sd]? ?out/i.test(r.ended || '');
  }

  function isError(r) {
    return !isTimeout(r) && (r.status >= 500 || /^(trap|fail|interrupt)/i.test(r.ended || ''));
  }

  function health(r) {
    if (isTimeout(r) || isError(r)) return 'bad';
    return r.status >= 400 ? 'warn' : 'ok';
  }

  function fuel(r) {
    const d = r.detail || {};
    return d.fuel ?? d.fuel_used;
  }

  function memory(r) {
    const d = r.detail || {};
    if (d.peak_memory_pages !== undefined) return d.peak_memory_pages * 65536;
    return d.peak_memory_bytes ?? d.memory_bytes;
  }

  function denials(r) {
    const d = (r.detail || {}).denials;
    return Array.isArray(d) ? d : [];
  }

  function stat(value, label) {
    return el('div', { class: 'stat' }, el('b', { text: value }), el('span', { text: label }));
  }

  function statusBadge(r) {
    return el('span', { class: `status ${health(r)}`, text: r.status });
  }

  // ---- views ---------------------------------------------------------------------------------

  function every(ms, signal, fn) {
    const id = setInterval(fn, ms);
    signal.addEventListener('abort', () => clearInterval(id));
  }

  async function renderHome(root, signal) {
    root.append(fromTemplate('tpl-home'));
    const refresh = async () => {
      const [list, server] = await Promise.all([apiJson('/v1/handlers'), apiJson('/v1/server').catch(() => null)]);
      const shows = await Promise.all(list.handlers.map((h) =>
        apiJson(`/v1/handlers/${encodeURIComponent(h.name)}`).catch(() => null)));
      if (signal.aborted) return;
      slot(root, 'server').replaceChildren(...(server ? serverStrip(server) : []));
      slot(root, 'empty').hidden = list.handlers.length > 0;
      slot(root, 'rows').replaceChildren(...list.handlers.map((h, i) => {
        const recent = (shows[i] && shows[i].recent_runs) || [];
        const dots = recent.slice().reverse().map((r) =>
          el('span', { class: `dot ${health(r)}`, title: `${r.status} ${r.ended} · ${time(r.finished_at)}` }));
        return el('tr', { 'data-handler': h.name },
          el('td', {}, el('a', { href: `#/h/${encodeURIComponent(h.name)}`, text: h.name })),
          el('td', { text: `v${h.live_version}` }),
          el('td', { class: 'wrap mono', text: h.routes ? compact(h.routes) : 'default' }),
          el('td', {}, ...(dots.length ? dots : ['no runs yet'])),
          el('td', { title: time(h.updated_at), text: ago(h.updated_at) }));
      }));
    };
    await refresh();
    every(5000, signal, () => refresh().catch(reportError));
  }

  function serverStrip(s) {
    const b = s.backend || {};
    const parts = [`tern ${s.version}`, `up ${duration(s.uptime_s)}`, `${s.handlers} handlers`];
    if (b.workers_busy !== undefined) parts.push(`workers busy ${b.workers_busy}/${b.workers ?? '?'}`);
    if (b.queued) parts.push(`queued ${Object.values(b.queued).reduce((a, n) => a + n, 0)}`);
    if (b.store_bytes !== undefined) parts.push(`store ${bytes(b.store_bytes)}`);
    return parts.map((p) => el('span', { text: p }));
  }

  function addTerms(dl, pairs) {
    for (const [k, v] of pairs) dl.append(el('dt', { text: k }), el('dd', {}, v instanceof Node ? v : String(v)));
  }

  async function renderHandler(root, signal, name) {
    root.append(fromTemplate('tpl-handler'));
    slot(root, 'name').textContent = name;
    const path = `/v1/handlers/${encodeURIComponent(name)}`;
    let shown = null;

    const renderShow = (h) => {
      shown = h;
      const live = h.versions.find((v) => v.live) || {};
      const dl = slot(root, 'summary');
      dl.replaceChildren();
      const config = h.config && typeof h.config === 'object' ? h.config : {};
      addTerms(dl, [
        ['version', `v${h.live_version}`],
        ['deployed', `${time(live.created_at)} (${ago(live.created_at)})`],
        ['live since', time(h.updated_at)],
        ['routes', compact(config.routes ?? config.route ?? 'the server default')],
        ['limits', compact(config.limits ?? 'server defaults')],
        ['grants', compact(config.grants ?? config.allow ?? 'none')],
      ]);
      for (const [k, v] of Object.entries(config)) {
        if (!['routes', 'limits', 'grants', 'allow'].includes(k)) addTerms(dl, [[k, compact(v)]]);
      }
      if (h.retention) addTerms(dl, [['retention', `${h.retention.keep_runs} runs, ${h.retention.keep_days} days`]]);
      addTerms(dl, [['module', el('span', { class: 'mono', text: live.sha256 || '—' })]]);

      slot(root, 'rollback-note').hidden = canDeploy();
      slot(root, 'versions').replaceChildren(...h.versions.slice().reverse().map((v) => {
        const action = v.live
          ? el('span', { class: 'badge', text: 'live' })
          : el('button', {
            class: 'small', type: 'button', 'data-version': v.version, disabled: !canDeploy(),
            title: canDeploy() ? `Make v${v.version} live` : 'needs a deploy token', text: 'Roll back',
          });
        if (!v.live && canDeploy()) action.addEventListener('click', () => rollback(v.version, action));
        return el('tr', { class: v.live ? 'live-row' : '', 'data-version-row': v.version },
          el('td', { text: `v${v.version}` }),
          el('td', { class: 'mono', title: v.sha256, text: v.sha256.slice(0, 16) }),
          el('td', { title: time(v.created_at), text: ago(v.created_at) }),
          el('td', {}, action));
      }));
    };

    const rollback = async (version, button) => {
      if (!window.confirm(`Make version ${version} of ${name} live?`)) return;
      button.disabled = true;
      try {
        await api(`${path}/rollback?version=${encodeURIComponent(version)}`, { method: 'POST' });
        renderShow(await apiJson(path));
        showError(null);
      } catch (e) {
        reportError(e);
        button.disabled = false;
      }
    };

    renderShow(await apiJson(path));
    every(10000, signal, () => apiJson(path).then((h) => { if (!signal.aborted) renderShow(h); }).catch(reportError));

    // Records: the stored ones, then new ones as they are written, on one streaming request.
    const records = [];
    let since = 0, dirty = false;
    const tail = slot(root, 'tail');
    const live = slot(root, 'live');

    const redraw = () => {
      if (!dirty || signal.aborted) return;
      dirty = false;
      const now = Date.now();
      const hour = records.filter((r) => now - r.finished_at < HOUR_MS);
      const bs = buckets(hour, now);
      const fuels = hour.map(fuel).filter((f) => f !== undefined);
      const mems = hour.map(memory).filter((m) => m !== undefined);
      slot(root, 'stats').replaceChildren(
        stat(number(hour.length), 'runs'),
        stat(String(Number((hour.length / 3600).toPrecision(2))), 'req/s'),
        stat(number(hour.filter(isError).length), 'errors'),
        stat(number(hour.filter(isTimeout).length), 'timeouts'),
        stat(fuels.length ? number(Math.round(fuels.reduce((a, b) => a + b, 0) / fuels.length)) : '—', 'fuel / run'),
        stat(mems.length ? bytes(Math.max(...mems)) : '—', 'peak memory'));
      slot(root, 'chart-rate').replaceChildren(rateChart(bs));
      slot(root, 'chart-latency').replaceChildren(latencyChart(bs));
      slot(root, 'runs').replaceChildren(...records.slice(-50).reverse().map((r) => el('tr', { 'data-run': r.id },
        el('td', { title: time(r.finished_at), text: clock(r.finished_at) }),
        el('td', { class: 'mono' }, el('a', { href: `#/r/${encodeURIComponent(r.id)}`, text: shortId(r.id) })),
        el('td', { text: r.kind }),
        el('td', { class: 'version', text: `v${r.version}` }),
        el('td', {}, statusBadge(r)),
        el('td', { class: 'wrap', text: r.ended }),
        el('td', { text: r.wall_ms }),
        el('td', { text: number(fuel(r)) }),
        el('td', { text: bytes(memory(r)) }),
        el('td', { class: 'wrap', text: denials(r).join(' ') || '—' }))));
    };
    every(1000, signal, redraw); // charts age even without new runs
    every(15000, signal, () => { dirty = true; });

    const onRecord = (r) => {
      since = Math.max(since, r.seq || 0);
      records.push(r);
      if (records.length > MAX_RECORDS) records.splice(0, records.length - MAX_RECORDS);
      const entry = el('div', { class: 'tail-entry', 'data-run': r.id });
      entry.textContent = `${clock(r.finished_at)} ${shortId(r.id)} v${r.version} ${r.kind} ${r.status} ${r.ended} ${r.wall_ms} ms`;
      for (const line of (r.logs || '').split('\n')) {
        if (line) entry.append(el('div', { class: 'tail-log', text: `  | ${line}` }));
      }
      const atBottom = tail.scrollTop + tail.clientHeight >= tail.scrollHeight - 4;
      tail.append(entry);
      while (tail.childElementCount > MAX_TAIL) tail.firstElementChild.remove();
      if (atBottom) tail.scrollTop = tail.scrollHeight;
      dirty = true;
      queueMicrotask(redraw);
    };

    const follow = async () => {
      while (!signal.aborted) {
        try {
          const resp = await api(`${path}/logs?follow=1&since=${since}`, { signal });
          live.classList.add('on');
          await readNdjson(resp, onRecord);
        } catch (e) {
          if (signal.aborted || e.status === 401) return;
          if (e.status === 404) { reportError(e); return; }
        }
        live.classList.remove('on');
        if (signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 2000)); // the server went away: retry
      }
    };
    dirty = true;
    redraw();
    follow();
  }

  async function renderRun(root, signal, id) {
    root.append(fromTemplate('tpl-run'));
    slot(root, 'id').textContent = id;
    const show = (r) => {
      const link = slot(root, 'handler-link');
      link.textContent = r.handler;
      link.setAttribute('href', `#/h/${encodeURIComponent(r.handler)}`);
      const dl = slot(root, 'record');
      dl.replaceChildren();
      for (const [k, v] of Object.entries(r)) {
        if (k === 'logs' || k === 'detail') continue;
        const value = k.endsWith('_at') ? `${time(v)} (${ago(v)})` : compact(v);
        addTerms(dl, [[k, k === 'status' ? statusBadge(r) : value]]);
      }
      if (r.detail && typeof r.detail === 'object') {
        for (const [k, v] of Object.entries(r.detail)) addTerms(dl, [[k, compact(v)]]);
      }
      slot(root, 'logs').textContent = r.logs || (r.state === 'finished' ? '(no log lines)' : `(${r.state})`);
    };
    let misses = 0;
    const load = async () => {
      let r;
      try {
        r = await apiJson(`/v1/runs/${encodeURIComponent(id)}`);
      } catch (e) {
        // Records are written in batches: a run that just ended may not be stored yet.
        if (e.status !== 404 || ++misses > 10) throw e;
        slot(root, 'logs').textContent = '(not recorded yet)';
        return false;
      }
      if (signal.aborted) return true;
      show(r);
      return r.state === 'finished';
    };
    const poll = () => load().then((done) => { if (!done && !signal.aborted) setTimeout(poll, 1000); }).catch(reportError);
    await poll(); // queued, running or not yet recorded: look again until it has finished
  }

  async function renderServer(root, signal) {
    root.append(fromTemplate('tpl-server'));
    const refresh = async () => {
      const s = await apiJson('/v1/server');
      if (signal.aborted) return;
      const dl = slot(root, 'info');
      dl.replaceChildren();
      addTerms(dl, [['version', s.version], ['uptime', duration(s.uptime_s)], ['handlers', s.handlers],
        ['signed in as', `${whoami.name || whoami.id} (${whoami.scope})`]]);
      if (s.backend && typeof s.backend === 'object') {
        for (const [k, v] of Object.entries(s.backend)) {
          addTerms(dl, [[k.replace(/_/g, ' '), /bytes$/.test(k) ? bytes(v) : compact(v)]]);
        }
      } else {
        addTerms(dl, [['workers, queues, store size', 'not reported by this server']]);
      }
    };
    await refresh();
    every(5000, signal, () => refresh().catch(reportError));
  }

  function reportError(e) {
    if (e && e.name === 'AbortError') return;
    if (e && e.status === 401) return; // signed out already
    showError(e && e.message ? e.message : String(e));
  }

  async function render() {
    if (!whoami) return;
    if (view) view.abort();
    view = new AbortController();
    const { signal } = view;
    showError(null);
    const root = $('view');
    root.replaceChildren();
    const parts = location.hash.replace(/^#\/?/, '').split('/');
    const arg = parts[1] === undefined ? '' : decodeURIComponent(parts[1]);
    try {
      if (parts[0] === 'h' && arg) await renderHandler(root, signal, arg);
      else if (parts[0] === 'r' && arg) await renderRun(root, signal, arg);
      else if (parts[0] === 'server') await renderServer(root, signal);
      else await renderHome(root, signal);
    } catch (e) {
      reportError(e);
    }
  }

  async function start() {
    $('signin-form').addEventListener('submit', signIn);
    $('signout').addEventListener('click', () => signOut(''));
    window.addEventListener('hashchange', render);
    if (token()) {
      try {
        whoami = await apiJson('/v1/whoami');
      } catch (e) {
        if (e.status !== 401) $('signin-error').textContent = `Could not reach the server: ${e.message}`;
      }
    }
    showSignedIn(!!whoami);
    if (whoami) render();
    else $('token').focus();
  }

  start();
})();
