// Firefox headless over WebDriver BiDi, with Node built-ins only: Node 20 has no WebSocket client,
// so a small one (RFC 6455, text frames, client-masked) is here.
'use strict';
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { BasePage, Connection } = require('./page.js');

/** A WebSocket client: `send(text)`, `onmessage(text)`. */
function connect(url) {
  return new Promise((resolve, reject) => {
    const req = http.request(url.replace(/^ws:/, 'http:'), {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
      },
    });
    req.on('error', reject);
    req.on('response', (r) => reject(new Error(`WebSocket upgrade refused: ${r.statusCode}`)));
    req.on('upgrade', (_res, socket) => {
      const ws = { onmessage: () => {}, socket };
      const frame = (opcode, payload) => {
        const mask = crypto.randomBytes(4);
        const n = payload.length;
        const head = n < 126 ? Buffer.from([0x80 | opcode, 0x80 | n])
          : n < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, n >> 8, n & 255])
            : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; })()]);
        const body = Buffer.from(payload);
        for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
        socket.write(Buffer.concat([head, mask, body]));
      };
      ws.send = (text) => frame(0x1, Buffer.from(text, 'utf8'));
      let buffered = Buffer.alloc(0);
      let message = [];
      socket.on('data', (chunk) => {
        buffered = Buffer.concat([buffered, chunk]);
        for (;;) {
          if (buffered.length < 2) return;
          const fin = buffered[0] & 0x80, opcode = buffered[0] & 0x0f;
          let n = buffered[1] & 0x7f, at = 2;
          if (n === 126) { if (buffered.length < 4) return; n = buffered.readUInt16BE(2); at = 4; }
          else if (n === 127) { if (buffered.length < 10) return; n = Number(buffered.readBigUInt64BE(2)); at = 10; }
          if (buffered.length < at + n) return;
          const payload = buffered.subarray(at, at + n);
          buffered = buffered.subarray(at + n);
          if (opcode === 0x9) frame(0xA, payload); // ping → pong
          else if (opcode === 0x8) socket.end();
          else if (opcode === 0x1 || opcode === 0x0) {
            message.push(payload);
            if (fin) { const text = Buffer.concat(message).toString('utf8'); message = []; ws.onmessage(text); }
          }
        }
      });
      resolve(ws);
    });
    req.end();
  });
}

class Firefox extends Connection {
  static async start(binary) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tern-dashboard-firefox-'));
    // No first-run pages, no background traffic.
    fs.writeFileSync(path.join(profile, 'user.js'), [
      'user_pref("browser.shell.checkDefaultBrowser", false);',
      'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
      'user_pref("toolkit.telemetry.reportingpolicy.firstRun", false);',
      'user_pref("app.update.disabledForTesting", true);',
      'user_pref("network.captive-portal-service.enabled", false);',
      'user_pref("browser.safebrowsing.update.enabled", false);',
    ].join('\n'));
    const proc = spawn(binary, ['--headless', '--no-remote', '--profile', profile, '--remote-debugging-port=0', 'about:blank'],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const url = await new Promise((resolve, reject) => {
      proc.stderr.on('data', (d) => {
        stderr = (stderr + d).slice(-8000);
        const m = /WebDriver BiDi listening on (ws:\/\/\S+)/.exec(stderr);
        if (m) resolve(m[1]);
      });
      proc.on('exit', (code) => reject(new Error(`Firefox exited (${code}) before listening:\n${stderr}`)));
    });
    return new Firefox(proc, profile, await connect(`${url}/session`));
  }

  constructor(proc, profile, ws) {
    super(proc, profile);
    this.write = (text) => ws.send(text);
    ws.onmessage = (text) => {
      const msg = JSON.parse(text);
      const error = msg.type === 'error' ? `${msg.error}: ${msg.message}` : null;
      if (!this.settle(msg.id, error, msg.result) && msg.type === 'event') this.emit(msg);
    };
  }

  send(method, params = {}) {
    return this.request(method, { params });
  }

  close() {
    return this.closeWith('browser.close');
  }
}

/** A BiDi value (serialised by the browser) as a plain value. */
function plain(v) {
  if (!v || v.type === 'undefined') return undefined;
  if (v.type === 'null') return null;
  return v.value;
}

class FirefoxPage extends BasePage {
  constructor(browser, context, shots) {
    super(shots);
    this.browser = browser;
    this.context = context;
    browser.listeners.push((msg) => {
      const p = msg.params || {};
      if (msg.method === 'log.entryAdded' && p.level === 'error') {
        this.problems.push(`${p.type}: ${p.text}`);
      } else if (msg.method === 'browsingContext.userPromptOpened' && p.context === context) {
        this.dialogs.push({ type: p.type, message: p.message });
        // Only the rollback confirmation is expected; accept it (an alert would be an XSS).
        browser.send('browsingContext.handleUserPrompt', { context, accept: p.type === 'confirm' })
          .catch((e) => this.problems.push(`answering a ${p.type}: ${e.message}`));
      }
    });
  }

  async goto(url) {
    await this.browser.send('browsingContext.navigate', { context: this.context, url, wait: 'complete' });
  }

  async eval(expression) {
    const r = await this.browser.send('script.evaluate', {
      expression, target: { context: this.context }, awaitPromise: true, resultOwnership: 'none',
    });
    if (r.type === 'exception') throw new Error(r.exceptionDetails.text);
    return plain(r.result);
  }

  async insertText(text) {
    // BiDi's input.performActions types key by key; a value and an input event are enough here.
    await this.eval(`(e => { e.value += ${JSON.stringify(text)}; e.dispatchEvent(new Event('input', { bubbles: true })); })(document.activeElement)`);
  }

  async screenshot() {
    return (await this.browser.send('browsingContext.captureScreenshot', { context: this.context })).data;
  }

  async viewport(width, height) {
    await this.browser.send('browsingContext.setViewport', { context: this.context, viewport: { width, height } });
  }

  /** prefers-color-scheme cannot be emulated over BiDi here. */
  async colorScheme() {
    return false;
  }
}

/** Starts Firefox and takes its first tab; returns { page, close }. */
async function launch(binary, shots) {
  const browser = await Firefox.start(binary);
  try {
    // Prompts wait for the test to answer them (the default would dismiss them first).
    await browser.send('session.new', { capabilities: { alwaysMatch: { unhandledPromptBehavior: 'ignore' } } });
    await browser.send('session.subscribe', { events: ['log.entryAdded', 'browsingContext.userPromptOpened'] });
    const { contexts } = await browser.send('browsingContext.getTree', {});
    return { page: new FirefoxPage(browser, contexts[0].context, shots), close: () => browser.close() };
  } catch (e) {
    await browser.close();
    throw e;
  }
}

module.exports = { launch };
