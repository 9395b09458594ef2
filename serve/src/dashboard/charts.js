// The dashboard's charts: the last hour in one-minute buckets, drawn as SVG by the page.
/** The span the charts show. */
export const HOUR_MS = 3600 * 1000;

function svg(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'text') node.textContent = String(v);
    else node.setAttribute(k, String(v));
  }
  return node;
}

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** One-minute buckets of the last hour: count, p50 and p99 of wall time. */
export function buckets(records, now) {
  const out = Array.from({ length: 60 }, () => ({ walls: [] }));
  for (const r of records) {
    const age = now - r.finished_at;
    if (age < 0 || age >= HOUR_MS) continue;
    out[59 - Math.floor(age / 60000)].walls.push(r.wall_ms);
  }
  for (const b of out) {
    b.walls.sort((a, b2) => a - b2);
    b.count = b.walls.length;
    b.p50 = quantile(b.walls, 0.5);
    b.p99 = quantile(b.walls, 0.99);
  }
  return out;
}

const W = 600, H = 100, PAD = 18;

function chartFrame(label) {
  const root = svg('svg', { viewBox: `0 0 ${W} ${H + PAD}`, role: 'img', 'aria-label': label });
  root.append(svg('line', { class: 'axis', x1: 0, y1: H, x2: W, y2: H }));
  root.append(svg('text', { x: 0, y: H + PAD - 2, text: '−60 min' }));
  root.append(svg('text', { x: W, y: H + PAD - 2, 'text-anchor': 'end', text: 'now' }));
  return root;
}

export function rateChart(bs) {
  const max = Math.max(...bs.map((b) => b.count / 60), 0);
  const root = chartFrame('requests per second, last hour');
  const bw = W / bs.length;
  bs.forEach((b, i) => {
    if (!b.count) return;
    const h = Math.max(1, (b.count / 60 / max) * (H - 12));
    root.append(svg('rect', { class: 'bar', x: i * bw + 1, y: H - h, width: bw - 2, height: h }));
  });
  root.append(svg('text', { x: 2, y: 13, text: `max ${Number(max.toPrecision(2))}/s` }));
  return root;
}

export function latencyChart(bs) {
  const max = Math.max(...bs.map((b) => b.p99 ?? 0), 1);
  const root = chartFrame('latency p50 and p99 in milliseconds, last hour');
  const bw = W / bs.length;
  for (const [key, cls] of [['p50', 'p50'], ['p99', 'p99line']]) {
    let d = '', joined = false;
    bs.forEach((b, i) => {
      if (b[key] === null) { joined = false; return; }
      const x = (i + 0.5) * bw, y = H - (b[key] / max) * (H - 12);
      d += `${joined ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)} `;
      joined = true;
    });
    // A lone minute has no line to draw: a short tick shows it.
    d = d.replace(/M([\d.]+) ([\d.]+) (?=M|$)/g, (_, x, y) => `M${x - 3} ${y} L${+x + 3} ${y} `);
    if (d) root.append(svg('path', { class: cls, d }));
  }
  root.append(svg('text', { x: 2, y: 13, text: `max ${Math.round(max)} ms` }));
  return root;
}

