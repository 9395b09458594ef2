// What the test asks of a browser tab, on top of each driver's eval (cdp.js, bidi.js).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** A step waiting longer than this for the page has failed. */
const STEP_MS = 15000;

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

module.exports = { BasePage, STEP_MS };
