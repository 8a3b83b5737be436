// model-collapse report: draws the curves and the spread of seeds from the JSON on the page.
// Text reaches the page only through textContent, never as markup.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const W = 560, H = 320, M = { left: 64, right: 16, top: 12, bottom: 40 };
  const shown = data.groups.map(() => true);
  let band = "boot";
  let logY = false;

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }
  function colour(i) { return COLOURS[i % COLOURS.length]; }
  function fmt(v) { return v === null || v === undefined ? "n/a" : Number(v).toPrecision(4); }

  function ticks(low, high, count) {
    if (!(high > low)) return [low];  // one generation: one tick
    const step0 = (high - low) / count;
    const power = Math.pow(10, Math.floor(Math.log10(step0)));
    const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= step0) || step0;
    const out = [];
    for (let t = Math.ceil(low / step) * step; t <= high + step * 1e-9; t += step) out.push(t);
    return out;
  }

  function extent(arrays, padded = true) {
    // loops, not Math.min(...values): a long sweep has more values than a call takes
    let low = Infinity, high = -Infinity;
    for (const values of arrays) {
      for (const v of values) {
        if (v === null || !Number.isFinite(v)) continue;
        if (v < low) low = v;
        if (v > high) high = v;
      }
    }
    if (low > high) return [0, 1];
    if (!padded) return [low, high];
    if (low === high) { low -= Math.abs(low) * 0.1 || 1; high += Math.abs(high) * 0.1 || 1; }
    const pad = (high - low) * 0.05;
    return [low - pad, high + pad];
  }

  function frame(svg, xs, ys, xLabel, yLog) {
    const sx = (x) => M.left + ((x - xs[0]) / (xs[1] - xs[0] || 1)) * (W - M.left - M.right);
    const sy = (y) => H - M.bottom - ((y - ys[0]) / (ys[1] - ys[0])) * (H - M.top - M.bottom);
    el("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }, svg);
    const axes = el("g", { class: "axes" }, svg);
    for (const t of ticks(ys[0], ys[1], 5)) {
      el("line", { x1: M.left, x2: W - M.right, y1: sy(t), y2: sy(t), class: "grid" }, axes);
      el("text", { x: M.left - 6, y: sy(t) + 4, "text-anchor": "end" }, axes).textContent =
        yLog ? fmt(Math.pow(10, t)) : fmt(t);
    }
    for (const t of ticks(xs[0], xs[1], 6)) {
      el("text", { x: sx(t), y: H - M.bottom + 16, "text-anchor": "middle" }, axes).textContent =
        Number.isInteger(t) ? String(t) : fmt(t);
    }
    el("line", { x1: M.left, x2: W - M.right, y1: H - M.bottom, y2: H - M.bottom, class: "axis" }, axes);
    el("line", { x1: M.left, x2: M.left, y1: M.top, y2: H - M.bottom, class: "axis" }, axes);
    el("text", { x: (W + M.left) / 2, y: H - 6, "text-anchor": "middle" }, axes).textContent = xLabel;
    return { sx, sy };
  }

  function path(xs, ys, sx, sy) {
    let d = "", pen = false;
    xs.forEach((x, i) => {
      const y = ys[i];
      if (y === null || !Number.isFinite(y)) { pen = false; return; }
      d += (pen ? "L" : "M") + sx(x).toFixed(1) + "," + sy(y).toFixed(1);
      pen = true;
    });
    return d;
  }

  function area(xs, lows, highs, sx, sy) {
    const keep = xs.map((_, i) => i).filter((i) => lows[i] !== null && highs[i] !== null);
    if (keep.length < 2) return "";
    const top = keep.map((i) => sx(xs[i]).toFixed(1) + "," + sy(highs[i]).toFixed(1));
    const bottom = keep.reverse().map((i) => sx(xs[i]).toFixed(1) + "," + sy(lows[i]).toFixed(1));
    return "M" + top.join("L") + "L" + bottom.join("L") + "Z";
  }

  // on a log scale a value is drawn as its log10; values at or below 0 are not drawn
  function scaled(values) {
    return logY ? values.map((v) => (v === null || v <= 0 ? null : Math.log10(v))) : values;
  }

  function curveChart(metric, holder) {
    const curves = {}, theory = {};
    for (const [name, c] of Object.entries(data.curves[metric])) {
      curves[name] = { x: c.x, mean: scaled(c.mean), t: c.t.map(scaled), boot: c.boot.map(scaled) };
    }
    for (const [name, list] of Object.entries(data.theory[metric] || {})) {
      theory[name] = list.map((s) => s.kind === "band"
        ? { ...s, low: scaled(s.low), high: scaled(s.high) } : { ...s, y: scaled(s.y) });
    }
    const all = [], xsAll = [];
    for (const c of Object.values(curves)) {
      all.push(c.mean, c.boot[0], c.boot[1], c.t[0], c.t[1]);
      xsAll.push(c.x);
    }
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" }, holder);
    const ys = extent(all), xs = extent(xsAll, false);
    const { sx, sy } = frame(svg, xs, ys, "generation", logY);
    const clip = (v) => (v === null ? null : Math.min(Math.max(v, ys[0]), ys[1]));
    data.groups.forEach((group, i) => {
      const c = curves[group.name];
      if (!c) return;
      const g = el("g", { "data-group": i, class: "series" }, svg);
      if (!shown[i]) g.style.display = "none";
      for (const s of theory[group.name] || []) {
        if (s.kind === "band") {
          el("path", { d: area(s.x, s.low.map(clip), s.high.map(clip), sx, sy), class: "theory-band" }, g);
        } else {
          el("path", { d: path(s.x, s.y.map(clip), sx, sy), class: s.dashed ? "theory dashed" : "theory" }, g);
        }
      }
      el("path", { d: area(c.x, c.t[0], c.t[1], sx, sy), fill: colour(i), class: "band band-t" }, g);
      el("path", { d: area(c.x, c.boot[0], c.boot[1], sx, sy), fill: colour(i), class: "band band-boot" }, g);
      el("path", { d: path(c.x, c.mean, sx, sy), stroke: colour(i), class: "mean" }, g);
    });
    hover(svg, holder, metric, data.curves[metric], sx, xs);
  }

  function hover(svg, holder, metric, curves, sx, xs) {
    const guide = el("line", { y1: M.top, y2: H - M.bottom, class: "guide", visibility: "hidden" }, svg);
    const tip = document.createElement("div");
    tip.className = "tip";
    holder.appendChild(tip);
    svg.addEventListener("mousemove", (event) => {
      const box = svg.getBoundingClientRect();
      const px = ((event.clientX - box.left) / box.width) * W;
      const x = Math.round(xs[0] + ((px - M.left) / (W - M.left - M.right)) * (xs[1] - xs[0]));
      if (x < xs[0] || x > xs[1]) return;
      guide.setAttribute("x1", sx(x));
      guide.setAttribute("x2", sx(x));
      guide.setAttribute("visibility", "visible");
      tip.replaceChildren();
      const head = document.createElement("b");
      head.textContent = `${metric}, generation ${x}`;
      tip.appendChild(head);
      data.groups.forEach((group, i) => {
        const c = curves[group.name];
        const at = c ? c.x.indexOf(x) : -1;
        if (!shown[i] || at < 0) return;
        const line = document.createElement("div");
        line.style.color = colour(i);
        const b = c[band];
        line.textContent = `${group.label}: ${fmt(c.mean[at])} [${fmt(b[0][at])}, ${fmt(b[1][at])}]`;
        tip.appendChild(line);
      });
      tip.style.display = "block";
    });
    svg.addEventListener("mouseleave", () => {
      guide.setAttribute("visibility", "hidden");
      tip.style.display = "none";
    });
  }

  function spreadChart(holder) {
    const spread = data.spread;
    const xs = extent(Object.values(spread.values)), bins = 20, width = (xs[1] - xs[0]) / bins;
    const counts = {};
    let most = 1;
    for (const [name, values] of Object.entries(spread.values)) {
      counts[name] = new Array(bins).fill(0);
      for (const v of values) {
        if (v === null) continue;
        counts[name][Math.min(bins - 1, Math.floor((v - xs[0]) / width))] += 1;
      }
      for (const count of counts[name]) most = Math.max(most, count);
    }
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" }, holder);
    const { sx, sy } = frame(svg, xs, [0, most * 1.05], `${spread.metric} at generation ${spread.generation}`);
    data.groups.forEach((group, i) => {
      const c = counts[group.name];
      if (!c) return;
      const g = el("g", { "data-group": i, class: "series" }, svg);
      let d = "M" + sx(xs[0]) + "," + sy(0);
      c.forEach((count, b) => {
        d += "L" + sx(xs[0] + b * width) + "," + sy(count) + "L" + sx(xs[0] + (b + 1) * width) + "," + sy(count);
      });
      d += "L" + sx(xs[1]) + "," + sy(0);
      el("path", { d, stroke: colour(i), fill: colour(i), class: "hist" }, g);
    });
  }

  function legend() {
    const holder = document.getElementById("groups");
    data.groups.forEach((group, i) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.dataset.group = String(i);
      box.addEventListener("change", () => {
        shown[i] = box.checked;
        document.querySelectorAll(`g[data-group="${i}"]`).forEach((g) => {
          g.style.display = box.checked ? "" : "none";
        });
      });
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colour(i);
      const name = document.createElement("span");
      name.textContent = group.label;
      label.append(box, swatch, name);
      holder.appendChild(label);
    });
    document.getElementById("band").addEventListener("change", (event) => {
      band = event.target.value;
      document.body.dataset.band = band;
    });
  }

  function drawCharts() {
    const charts = document.getElementById("charts");
    charts.replaceChildren();
    for (const metric of data.metrics) {
      const holder = document.createElement("figure");
      holder.className = "chart";
      const caption = document.createElement("figcaption");
      caption.textContent = metric;
      holder.appendChild(caption);
      charts.appendChild(holder);
      curveChart(metric, holder);
    }
  }

  legend();
  document.getElementById("log").addEventListener("change", (event) => {
    logY = event.target.checked;
    drawCharts();
  });
  drawCharts();
  spreadChart(document.getElementById("spread-chart"));
  document.body.dataset.band = band;
  document.body.dataset.ready = "yes";
})();
