// Chromium headless over the DevTools protocol on a pipe (--remote-debugging-pipe: the browser
// reads fd 3 and writes fd 4, each message ends with NUL), with Node built-ins only.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { BasePage, Connection } = require('./page.js');

class Chromium extends Connection {
  constructor(binary) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tern-dashboard-chromium-'));
    super(spawn(binary, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-dev-shm-usage', '--remote-debugging-pipe', `--user-data-dir=${profile}`,
      'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] }), profile);
    this.stderr = '';
    this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d).slice(-4000); });
    this.write = (text) => this.proc.stdio[3].write(text + '\0');
    let buffered = Buffer.alloc(0);
    this.proc.stdio[4].on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      let end;
      while ((end = buffered.indexOf(0)) >= 0) {
        const msg = JSON.parse(buffered.subarray(0, end).toString('utf8'));
        buffered = buffered.subarray(end + 1);
        if (!this.settle(msg.id, msg.error?.message, msg.result)) this.emit(msg);
      }
    });
  }

  send(method, params = {}, sessionId) {
    return this.request(method, { params, ...(sessionId ? { sessionId } : {}) });
  }

  close() {
    return this.closeWith('Browser.close');
  }
}

class ChromiumPage extends BasePage {
  constructor(browser, sessionId, shots) {
    super(shots);
    this.browser = browser;
    this.sessionId = sessionId;
    this.loads = [];
    browser.listeners.push((msg) => {
      if (msg.sessionId !== sessionId) return;
      const p = msg.params || {};
      switch (msg.method) {
        case 'Runtime.exceptionThrown':
          this.problems.push(`exception: ${p.exceptionDetails.exception?.description || p.exceptionDetails.text}`);
          break;
        case 'Runtime.consoleAPICalled':
          if (p.type === 'error') this.problems.push(`console.error: ${p.args.map((a) => a.value ?? a.description).join(' ')}`);
          break;
        case 'Log.entryAdded': // CSP violations are reported here; failed requests (401, 404) are expected
          if (p.entry.level === 'error' && p.entry.source !== 'network') this.problems.push(`log: ${p.entry.text}`);
          break;
        case 'Page.javascriptDialogOpening':
          this.dialogs.push({ type: p.type, message: p.message });
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

  async eval(expression) {
    const r = await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception?.description || r.exceptionDetails.text);
    return r.result.value;
  }

  async insertText(text) {
    await this.send('Input.insertText', { text });
  }

  async screenshot() {
    return (await this.send('Page.captureScreenshot', { format: 'png' })).data;
  }

  async viewport(width, height, mobile = false) {
    await this.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile });
  }

  /** Emulates prefers-color-scheme; returns whether this browser can. */
  async colorScheme(value) {
    await this.send('Emulation.setEmulatedMedia', { features: value ? [{ name: 'prefers-color-scheme', value }] : [] });
    return true;
  }
}

/** Starts Chromium and opens one tab; returns { page, close }. */
async function launch(binary, shots) {
  const browser = new Chromium(binary);
  try {
    const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true });
    const page = new ChromiumPage(browser, sessionId, shots);
    await page.send('Page.enable');
    await page.send('Runtime.enable');
    await page.send('Log.enable');
    return { page, close: () => browser.close() };
  } catch (e) {
    await browser.close();
    throw new Error(`starting Chromium: ${e.message}\n${browser.stderr}`);
  }
}

module.exports = { launch };
