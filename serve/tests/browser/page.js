// What the test asks of a browser tab, on top of each driver's eval (cdp.js, bidi.js).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** A step waiting longer than this for the page has failed. */
const STEP_MS = 15000;

/**
 * A browser process and the JSON messages to and from it: requests answered by id, everything
 * else to the listeners. A driver sets `write(text)` (its transport) and calls `settle`/`emit`.
 */
class Connection {
  constructor(proc, profile) {
    this.proc = proc;
    this.profile = profile;
    this.next = 1;
    this.waiting = new Map();
    this.listeners = [];
    this.exited = new Promise((resolve) => proc.on('exit', resolve));
    // Should the test itself crash, its browser goes with it.
    process.once('exit', () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); });
  }

  /** Sends `{ id, method, ...fields }`; resolves with the reply's result. */
  request(method, fields) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, method });
      this.write(JSON.stringify({ id, method, ...fields }));
    });
  }

  /** Answers request `id` (an `error` rejects it); false when `id` is not a request of ours. */
  settle(id, error, result) {
    const waiting = this.waiting.get(id);
    if (!waiting) return false;
    this.waiting.delete(id);
    if (error) waiting.reject(new Error(`${waiting.method}: ${error}`));
    else waiting.resolve(result);
    return true;
  }

  emit(msg) {
    for (const l of this.listeners) l(msg);
  }

  /** Asks the browser to close with `method`, waits for it to exit, removes its profile. */
  async closeWith(method) {
    try { await this.request(method, { params: {} }); } catch { /* already gone */ }
    await this.exited;
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}

class BasePage {
  constructor(shots) {
    this.shots = shots;
    this.problems = []; // script exceptions, console errors, CSP reports
    this.dialogs = []; // { type, message } of every dialog the page opened
  }

  /** Moves within the page (a same-document navigation fires no load event). */
  async hash(fragment) {
    await this.eval(`location.hash = ${JSON.stringify(fragment)}`);
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
      const text = await this.eval('document.body.innerText').catch(() => '?');
      throw new Error(`waiting for ${what}: ${e.message}\n  page text: ${String(text).slice(0, 1500)}`);
    }
  }

  async click(selector) {
    await this.eval(`document.querySelector(${JSON.stringify(selector)}).click()`);
  }

  /** Empties a field, focuses it and types `text` into it. */
  async type(selector, text) {
    await this.eval(`(e => { e.value = ''; e.focus(); })(document.querySelector(${JSON.stringify(selector)}))`);
    await this.insertText(text);
  }

  async shot(name) {
    fs.mkdirSync(this.shots, { recursive: true });
    fs.writeFileSync(path.join(this.shots, `${name}.png`), Buffer.from(await this.screenshot(), 'base64'));
  }
}

module.exports = { BasePage, Connection, STEP_MS };
