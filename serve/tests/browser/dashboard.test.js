// The dashboard in a real browser: Chromium headless, driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: fd 3 in, fd 4 out, messages end with NUL), with Node built-ins only.
// Started by run.sh, which starts the server, deploys the handlers and passes their addresses.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const assert = require('node:assert/strict');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`run.sh sets ${name}`);
  return v;
};
const API = env('API'), HTTP = env('HTTP'), TOKEN = env('TOKEN'), READ_TOKEN = env('READ_TOKEN');
const SHOTS = env('SHOTS');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 15000; // a step that takes longer than this has failed

/** The DevTools protocol over Chromium's pipe. */
class Browser {
  constructor() {
    this.profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tern-dashboard-chromium-'));
    this.proc = spawn(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', '--remote-debugging-pipe', `--user-data-dir=${this.profile}`,
      'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000); });
    this.next = 1;
    this.waiting = new Map();
    this.listeners = [];
    let buffered = Buffer.alloc(0);
    this.proc.stdio[4].on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      let end;
      while ((end = buffered.indexOf(0)) >= 0) {
        const msg = JSON.parse(buffered.subarray(0, end).toString('utf8'));
        buffered = buffered.subarray(end + 1);
        this.dispatch(msg);
      }
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', resolve));
  }

  dispatch(msg) {
    if (msg.id && this.waiting.has(msg.id)) {
      const { resolve, reject, method } = this.waiting.get(msg.id);
      this.waiting.delete(msg.id);
      if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
      else resolve(msg.result);
      return;
    }
    for (const l of this.listeners) l(msg);
  }

  send(method, params = {}, sessionId) {
    const id = this.next++;
    const msg = JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) });
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, method });
      this.proc.stdio[3].write(msg + '\0');
    });
  }

  on(fn) { this.listeners.push(fn); }

  async close() {
    try { await this.send('Browser.close'); } catch { /* already gone */ }
    await this.exited;
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}

/** One tab. */
class Page {
  static async open(browser) {
    const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new Page(browser, sessionId);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Log.enable');
    return page;
  }

  constructor(browser, sessionId) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.problems = []; // exceptions, console errors, CSP reports
    this.dialogs = [];
    this.loads = [];
    browser.on((msg) => {
      if (msg.sessionId !== sessionId) return;
      const p = msg.params || {};
      switch (msg.method) {
        case 'Runtime.exceptionThrown':
          this.problems.push(`exception: ${p.exceptionDetails.exception?.description || p.exceptionDetails.text}`);
          break;
        case 'Runtime.consoleAPICalled':
          if (p.type === 'error') this.problems.push(`console.error: ${p.args.map((a) => a.value ?? a.description).join(' ')}`);
          break;
        case 'Log.entryAdded':
          if (p.entry.level === 'error' && p.entry.source !== 'network') this.problems.push(`log: ${p.entry.text}`);
          break;
        case 'Page.javascriptDialogOpening':
          this.dialogs.push(p);
          // Only the rollback confirmation is expected; accept it (an alert would be an XSS).
          this.send('Page.handleJavaScriptDialog', { accept: p.type === 'confirm' });
          break;
        case 'Page.loadEventFired':
          this.loads.splice(0).forEach((resolve) => resolve());
          break;
        default:
      }
    });
  }

  send(method, params) { return this.browser.send(method, params, this.sessionId); }

  async goto(url) {
    const loaded = new Promise((resolve) => this.loads.push(resolve));
    await this.send('Page.navigate', { url });
    await loaded;
  }

  /** Moves within the page (a same-document navigation fires no load event). */
  async hash(fragment) {
    await this.eval(`location.hash = ${JSON.stringify(fragment)}`);
  }

  async eval(expression) {
    const r = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(`${expression}: ${r.exceptionDetails.exception?.description || r.exceptionDetails.text}`);
    return r.result.value;
  }

  /** Resolves when `condition` (a page expression) is true: checked on every DOM change. */
  async until(condition, what) {
    const expression = `new Promise((resolve, reject) => {
      const check = () => { try { return !!(${condition}); } catch (e) { return false; } };
      if (check()) return resolve(true);
      const obs = new MutationObserver(() => { if (check()) { obs.disconnect(); clearTimeout(t); resolve(true); } });
      obs.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
      const t = setTimeout(() => { obs.disconnect(); reject(new Error('timed out')); }, ${STEP_MS});
    })`;
    try {
      await this.eval(expression);
    } catch (e) {
      throw new Error(`waiting for ${what}: ${e.message}\n  page text: ${(await this.eval('document.body.innerText')).slice(0, 1500)}`);
    }
  }

  async click(selector) {
    await this.eval(`document.querySelector(${JSON.stringify(selector)}).click()`);
  }

  async type(selector, text) {
    await this.eval(`(e => { e.value = ''; e.focus(); })(document.querySelector(${JSON.stringify(selector)}))`);
    await this.send('Input.insertText', { text });
  }

  async shot(name) {
    const { data } = await this.send('Page.captureScreenshot', { format: 'png' });
    fs.writeFileSync(path.join(SHOTS, `${name}.png`), Buffer.from(data, 'base64'));
  }

  async viewport(width, height, mobile = false) {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile });
  }
}

/** A request on the handler port with curl, as a user would make it: [status, run id, body]. */
function curl(urlPath) {
  const out = execFileSync('curl', ['-sS', '-D', '-', `${HTTP}${urlPath}`], { encoding: 'utf8' });
  const [head, body] = out.split('\r\n\r\n');
  const status = Number(head.split(' ')[1]);
  const run = /^x-tern-run-id: *(\S+)/im.exec(head)?.[1];
  return { status, run, body };
}

const steps = [];
const step = (name, fn) => steps.push([name, fn]);
let browser, page;

step('the page is served with a strict CSP and no framing', async () => {
  const resp = await fetch(`${API}/`);
  assert.equal(resp.status, 200);
  const csp = resp.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(resp.headers.get('x-frame-options'), 'DENY');
  const data = await fetch(`${API}/v1/handlers`);
  assert.equal(data.status, 401, 'the data needs a token');
});

step('a wrong token is refused and shows nothing', async () => {
  await page.viewport(1200, 900);
  await page.goto(`${API}/`);
  await page.until(`!document.getElementById('signin').hidden`, 'the sign-in form');
  await page.shot('01-sign-in');
  await page.type('#token', 'tern_wrong_token');
  await page.click('#signin-form button');
  await page.until(`document.getElementById('signin-error').textContent.includes('not accepted')`, 'the refusal');
  assert.equal(await page.eval(`document.getElementById('view').hidden`), true);
  assert.equal(await page.eval(`sessionStorage.length`), 0);
});

step('signing in shows the handlers', async () => {
  await page.type('#token', TOKEN);
  await page.click('#signin-form button');
  await page.until(`document.querySelector('tr[data-handler="hello"]')`, 'the hello handler');
  await page.until(`document.querySelector('tr[data-handler="xss"]')`, 'the xss handler');
  assert.equal(await page.eval(`document.getElementById('token').value`), '', 'the field is cleared');
  assert.equal(await page.eval(`sessionStorage.getItem('tern.token')`), TOKEN);
  assert.ok(!(await page.eval('location.href')).includes(TOKEN), 'no token in the URL');
  await page.until(`document.querySelector('tr[data-handler="hello"] .dot')`, 'the status of its runs');
  assert.match(await page.eval(`document.querySelector('tr[data-handler="hello"]').textContent`), /v2/);
  await page.shot('02-handlers');
});

step('a request made with curl appears in the live tail', async () => {
  await page.click('tr[data-handler="hello"] a');
  await page.until(`document.querySelector('[data-slot="live"].on')`, 'the live tail to connect');
  const r = curl('/hello');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'Hello from version 2\n');
  await page.until(`document.querySelector('.tail-entry[data-run="${r.run}"]')`, `run ${r.run} in the tail`);
  const entry = await page.eval(`document.querySelector('.tail-entry[data-run="${r.run}"]').textContent`);
  assert.match(entry, / v2 http 200 exited/);
  assert.match(entry, /\| \[guest\] info: greeted/);
  await page.until(`document.querySelector('tr[data-run="${r.run}"]')`, 'the run in the invocations table');
  await page.until(`document.querySelector('[data-slot="chart-rate"] rect.bar')`, 'a bar in the request chart');
  await page.until(`document.querySelector('[data-slot="chart-latency"] path')`, 'the latency lines');
  await page.shot('03-handler');
});

step('rolling back makes the old version serve', async () => {
  await page.until(`document.querySelector('button[data-version="1"]:not([disabled])')`, 'the rollback button');
  await page.click('button[data-version="1"]');
  await page.until(`document.querySelector('tr.live-row[data-version-row="1"]')`, 'v1 to be live');
  assert.equal(page.dialogs.at(-1)?.type, 'confirm');
  const r = curl('/hello');
  assert.equal(r.body, 'Hello from version 1\n', 'the old version answers');
  await page.until(`document.querySelector('tr[data-run="${r.run}"] .version')?.textContent === 'v1'`, 'the run of v1');
  await page.shot('04-rolled-back');
});

step('a run page shows the full record and its log lines', async () => {
  const r = curl('/hello');
  await page.hash(`#/r/${r.run}`);
  await page.until(`document.querySelector('[data-slot="logs"]').textContent.includes('greeted')`, 'the run log');
  const record = await page.eval(`document.querySelector('[data-slot="record"]').textContent`);
  for (const field of ['handler', 'hello', 'status', '200', 'fuel', 'peak_memory_pages', 'wall_ms']) {
    assert.ok(record.includes(field), `the record shows ${field}`);
  }
});

step('guest output that is HTML is shown as text and runs nothing', async () => {
  const r = curl('/xss');
  assert.equal(r.status, 200);
  await page.hash(`#/h/xss`);
  await page.until(`document.querySelector('.tail-entry[data-run="${r.run}"]')`, 'the xss run in the tail');
  const tail = await page.eval(`document.querySelector('[data-slot="tail"]').textContent`);
  assert.ok(tail.includes('<script>window.__xss=1</script>'), 'the script tag is text');
  assert.ok(tail.includes('<img src=x onerror=window.__xss=2>'), 'the img tag is text');
  assert.equal(await page.eval(`document.querySelectorAll('#view img, #view script').length`), 0);
  await page.shot('05-xss-tail');
  await page.hash(`#/r/${r.run}`);
  await page.until(`document.querySelector('[data-slot="logs"]').textContent.includes('onerror')`, 'the xss run log');
  assert.equal(await page.eval(`document.querySelectorAll('#view img, #view script').length`), 0);
  assert.equal(await page.eval(`typeof window.__xss`), 'undefined', 'no guest script ran');
  assert.ok(!page.dialogs.some((d) => d.type !== 'confirm'), 'no alert opened');
  await page.shot('06-xss-run');
});

step('the server view shows version and uptime', async () => {
  await page.hash(`#/server`);
  await page.until(`document.querySelector('[data-slot="info"]')?.textContent.includes('uptime')`, 'the server info');
  const info = await page.eval(`document.querySelector('[data-slot="info"]').innerText`);
  assert.match(info, /version\s+0\.\d+\.\d+/);
  for (const row of [/workers busy\s+\d+/, /queued\s+\{"hello":\d+/, /store bytes\s+[\d.]+ (KiB|MiB)/]) assert.match(info, row);
  await page.shot('09-server');
});

step('readable on a phone, and dark when the system is', async () => {
  await page.viewport(390, 844, true);
  await page.hash(`#/h/hello`);
  await page.until(`document.querySelector('tr[data-run]')`, 'the runs on a phone');
  assert.ok(await page.eval('document.documentElement.scrollWidth <= window.innerWidth'), 'no sideways scrolling');
  await page.shot('07-phone');
  const light = await page.eval('getComputedStyle(document.body).backgroundColor');
  await page.send('Emulation.setEmulatedMedia', { features: [{ name: 'prefers-color-scheme', value: 'dark' }] });
  const dark = await page.eval('getComputedStyle(document.body).backgroundColor');
  assert.notEqual(light, dark);
  await page.viewport(1200, 900);
  await page.shot('08-dark');
  await page.send('Emulation.setEmulatedMedia', { features: [] });
});

step('a read token sees the handler but cannot roll back', async () => {
  await page.viewport(1200, 900);
  await page.click('#signout');
  assert.equal(await page.eval(`sessionStorage.getItem('tern.token')`), null);
  assert.equal(await page.eval(`document.getElementById('view').childElementCount`), 0);
  await page.type('#token', READ_TOKEN);
  await page.click('#signin-form button');
  await page.until(`document.querySelector('button[data-version="2"]')`, 'the versions');
  assert.equal(await page.eval(`document.querySelector('button[data-version="2"]').disabled`), true);
  assert.equal(await page.eval(`document.querySelector('[data-slot="rollback-note"]').hidden`), false);
});

step('no script errors and no CSP violations', async () => {
  assert.deepEqual(page.problems, []);
});

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  browser = new Browser();
  let failed = 0;
  try {
    page = await Page.open(browser);
    for (const [name, fn] of steps) {
      try {
        await fn();
        console.log(`ok   ${name}`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${name}\n  ${e.stack || e}`);
        if (page) await page.shot(`failed-${steps.findIndex((s) => s[0] === name)}`).catch(() => {});
        break; // later steps build on this one
      }
    }
  } catch (e) {
    failed++;
    console.log(`FAIL starting Chromium: ${e.message}\n${browser.stderr}`);
  } finally {
    await browser.close();
  }
  console.log(failed ? 'dashboard browser test: FAILED' : `dashboard browser test: ${steps.length} steps passed; screenshots in ${SHOTS}`);
  process.exit(failed ? 1 : 0);
})();
