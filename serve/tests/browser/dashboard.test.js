// The dashboard in a real browser, with Node built-ins only: Chromium over the DevTools protocol
// (cdp.js) or Firefox over WebDriver BiDi (bidi.js), both headless. Started by run.sh, which
// starts the server, deploys the handlers and passes their addresses and tokens.
'use strict';
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const assert = require('node:assert/strict');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`run.sh sets ${name}`);
  return v;
};
const API = env('API'), HTTP = env('HTTP'), TOKEN = env('TOKEN'), READ_TOKEN = env('READ_TOKEN');
const BROWSER = env('BROWSER'); // chromium or firefox
const BROWSER_BIN = env('BROWSER_BIN');
const SHOTS = path.join(env('SHOTS'), BROWSER);
const driver = { chromium: './cdp.js', firefox: './bidi.js' }[BROWSER];

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
let page;

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
  assert.match(r.body, /^Hello, version 2 You asked for \//);
  await page.until(`document.querySelector('.tail-entry[data-run="${r.run}"]')`, `run ${r.run} in the tail`);
  const entry = await page.eval(`document.querySelector('.tail-entry[data-run="${r.run}"]').textContent`);
  assert.match(entry, / v2 http 200 exited/);
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
  assert.match(r.body, /^Hello from tern! You asked for \//, 'the old version answers');
  await page.until(`document.querySelector('tr[data-run="${r.run}"] .version')?.textContent === 'v1'`, 'the run of v1');
  await page.shot('04-rolled-back');
});

step('a run page shows the full record and its log lines', async () => {
  const r = curl('/hello');
  await page.hash(`#/r/${r.run}`);
  await page.until(`document.querySelector('[data-slot="record"]')?.textContent.includes('finished')`, 'the run record');
  const record = await page.eval(`document.querySelector('[data-slot="record"]').textContent`);
  for (const field of ['handler', 'hello', 'status', '200', 'fuel', 'peak_memory_pages', 'wall_ms']) {
    assert.ok(record.includes(field), `the record shows ${field}`);
  }
});

step("an async run's page shows its outcome", async () => {
  const out = execFileSync('curl', ['-sS', '--fail-with-body', '-X', 'POST', '-H', `Authorization: Bearer ${TOKEN}`,
    `${API}/v1/handlers/hello/invoke?async=1`], { encoding: 'utf8' });
  const { run } = JSON.parse(out);
  await page.hash(`#/r/${run}`);
  await page.until(`document.querySelector('[data-slot="record"]')?.textContent.includes('finished')`, 'the async run to finish');
  const record = await page.eval(`document.querySelector('[data-slot="record"]').innerText`);
  assert.match(record, /kind\s+async/);
  assert.match(record, /output\s+Hello from tern! You asked for \//);
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
  if (!(await page.colorScheme('dark'))) return; // this driver cannot emulate it
  const dark = await page.eval('getComputedStyle(document.body).backgroundColor');
  assert.notEqual(light, dark);
  await page.viewport(1200, 900);
  await page.shot('08-dark');
  await page.colorScheme(null);
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
  let failed = 0;
  let browser;
  try {
    browser = await require(driver).launch(BROWSER_BIN, SHOTS);
    page = browser.page;
    for (const [i, [name, fn]] of steps.entries()) {
      try {
        await fn();
        console.log(`ok   ${BROWSER}: ${name}`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${BROWSER}: ${name}\n  ${e.stack || e}`);
        await page.shot(`failed-${i}`).catch(() => {});
        break; // later steps build on this one
      }
    }
  } catch (e) {
    failed++;
    console.log(`FAIL ${BROWSER}: ${e.stack || e}`);
  } finally {
    if (browser) await browser.close();
  }
  console.log(failed ? `dashboard browser test (${BROWSER}): FAILED`
    : `dashboard browser test (${BROWSER}): ${steps.length} steps passed; screenshots in ${SHOTS}`);
  process.exit(failed ? 1 : 0);
})();
