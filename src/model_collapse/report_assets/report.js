// model-collapse report: draws the curves and the spread of seeds from the JSON on the page.
// Text reaches the page only through textContent, never as markup.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const W = 560, H = 320, M = { left: 64, right: 16, top: 12, bottom: 40 };
  const TOP = M.top, BOTTOM = H - M.bottom, LEFT = M.left, RIGHT = W - M.right;
  const shown = data.groups.map(() => true);
  let band = "stat";
  let logY = false;

  function el(name, attrs, parent) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (parent) parent.appendChild(node);
    return node;
  }
  function colour(i) { return data.groups[i].colour; }
  // values as people write them: 400, 0.5, 1.235 (four significant digits at most)
  function fmt(v) {
    if (v === null || v === undefined || !Number.isFinite(v)) return "n/a";
    return String(Number(Number(v).toPrecision(4)));
  }
  // a tick as the step between ticks allows: 0.5 and 1, not 0.5000 and 1.000
  function tickText(v, step) {
    if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4)) return Number(v).toExponential(1);
    const digits = Math.min(8, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
    return String(Number(v.toFixed(digits)));
  }

  function niceStep(span, count, whole) {
    const step0 = span / count;
    const power = Math.pow(10, Math.floor(Math.log10(step0)));
    const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= step0) || step0;
    return whole ? Math.max(1, Math.round(step)) : step;
  }
  // ticks between low and high: [value, position, text]; on a log axis the values are
  // powers of ten where the axis spans a decade, else round numbers placed by their log
  function ticks(low, high, count, opts) {
    const { log = false, whole = false } = opts || {};
    if (!(high > low)) return [[low, low, log ? fmt(Math.pow(10, low)) : fmt(low)]];
    if (log && high - low >= 1) {
      const step = Math.max(1, Math.round(niceStep(high - low, count, true)));
      const out = [];
      for (let t = Math.ceil(low); t <= high + 1e-9; t += step) {
        out.push([t, t, fmt(Math.pow(10, t))]);
      }
      return out;
    }
    const [a, b] = log ? [Math.pow(10, low), Math.pow(10, high)] : [low, high];
    const step = niceStep(b - a, count, whole);
    const out = [];
    for (let v = Math.ceil(a / step - 1e-9) * step; v <= b + step * 1e-9; v += step) {
      out.push([v, log ? Math.log10(v) : v, tickText(v, step)]);
    }
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

  function frame(svg, xs, ys, xLabel, opts) {
    const sx = (x) => LEFT + ((x - xs[0]) / (xs[1] - xs[0] || 1)) * (RIGHT - LEFT);
    const sy = (y) => BOTTOM - ((y - ys[0]) / (ys[1] - ys[0])) * (BOTTOM - TOP);
    el("rect", { x: 0, y: 0, width: W, height: H, fill: "#ffffff" }, svg);
    // the plotting area: every curve, band and line of theory stays inside it
    el("rect", { x: LEFT, y: TOP, width: RIGHT - LEFT, height: BOTTOM - TOP, class: "plot-area" }, svg);
    const axes = el("g", { class: "axes" }, svg);
    for (const [, t, text] of ticks(ys[0], ys[1], 5, opts)) {
      el("line", { x1: LEFT, x2: RIGHT, y1: sy(t), y2: sy(t), class: "grid" }, axes);
      el("text", { x: LEFT - 6, y: sy(t) + 4, "text-anchor": "end" }, axes).textContent = text;
    }
    for (const [, t, text] of ticks(xs[0], xs[1], 6, { whole: true })) {
      el("text", { x: sx(t), y: BOTTOM + 16, "text-anchor": "middle" }, axes).textContent = text;
    }
    el("line", { x1: LEFT, x2: RIGHT, y1: BOTTOM, y2: BOTTOM, class: "axis" }, axes);
    el("line", { x1: LEFT, x2: LEFT, y1: TOP, y2: BOTTOM, class: "axis" }, axes);
    el("text", { x: (W + LEFT) / 2, y: H - 6, "text-anchor": "middle" }, axes).textContent = xLabel;
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

  // what a group's line and band are under the chosen view
  function series(c) {
    if (band === "t") return { line: scaled(c.mean), low: scaled(c.t[0]), high: scaled(c.t[1]) };
    return { line: scaled(c.value), low: scaled(c.stat[0]), high: scaled(c.stat[1]) };
  }

  function curveChart(metric, holder) {
    const read = data.readings[metric];
    const meanBeside = band === "stat" && read.statistic !== "mean";
    const level = read.level === null ? null : scaled([read.level])[0];
    const drawn = {}, all = [], xsAll = [];
    data.groups.forEach((group, i) => {
      const c = data.curves[metric][group.name];
      if (!c) return;
      drawn[group.name] = series(c);
      xsAll.push(c.x);
      // the axes fit the groups shown, their bands and the real level; a mean, a theory
      // or a group that is hidden runs off the frame rather than squeeze them
      if (shown[i]) all.push(drawn[group.name].line, drawn[group.name].low, drawn[group.name].high);
    });
    if (level !== null) all.push([level]);
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" }, holder);
    const ys = extent(all), xs = extent(xsAll, false);
    const { sx, sy } = frame(svg, xs, ys, "generation", { log: logY });
    // inside the frame: a line stops where it leaves it, a band is cut at its edge
    const inside = (values) => values.map((v) => (v === null || v < ys[0] || v > ys[1] ? null : v));
    const cut = (values) => values.map((v) => (v === null ? null : Math.min(Math.max(v, ys[0]), ys[1])));
    const legend = [];
    if (level !== null && level >= ys[0] && level <= ys[1]) {
      el("line", { x1: LEFT, x2: RIGHT, y1: sy(level), y2: sy(level), class: "level" }, svg);
      legend.push({ cls: "level", text: `the real data's level, ${fmt(read.level)}` });
    }
    const theoryLabels = new Map();
    data.groups.forEach((group, i) => {
      const c = data.curves[metric][group.name];
      if (!c) return;
      const s = drawn[group.name];
      const g = el("g", { "data-group": i, class: "series" }, svg);
      if (!shown[i]) g.style.display = "none";
      for (const t of theoryOf(metric, group.name)) {
        if (t.kind === "band") {
          el("path", { d: area(t.x, cut(t.low), cut(t.high), sx, sy), class: "theory-band" }, g);
        } else {
          el("path", { d: path(t.x, inside(t.y), sx, sy), class: t.dashed ? "theory dashed" : "theory" }, g);
        }
        if (t.label && shown[i]) theoryLabels.set(t.label, t.kind === "band" ? "theory-band" : t.dashed ? "theory dashed" : "theory");
      }
      el("path", { d: area(c.x, cut(s.low), cut(s.high), sx, sy), fill: colour(i), class: "band" }, g);
      if (meanBeside) {
        el("path", { d: path(c.x, inside(scaled(c.mean)), sx, sy), stroke: colour(i), class: "mean-beside" }, g);
      }
      el("path", { d: path(c.x, inside(s.line), sx, sy), stroke: colour(i), class: "line" }, g);
    });
    const what = band === "t" ? "mean" : read.statistic;
    legend.unshift({ cls: "line", text: `${what} over seeds, band: its 95% interval` });
    if (meanBeside) legend.splice(1, 0, { cls: "mean-beside", text: "mean over seeds" });
    for (const [text, cls] of theoryLabels) legend.push({ cls, text });
    drawLegend(holder, legend);
    if (read.note) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = read.note;
      holder.appendChild(note);
    }
    hover(svg, holder, metric, xs);
  }

  function theoryOf(metric, name) {
    return (data.theory[metric] && data.theory[metric][name] || []).map((t) => t.kind === "band"
      ? { ...t, low: scaled(t.low), high: scaled(t.high) } : { ...t, y: scaled(t.y) });
  }

  function drawLegend(holder, entries) {
    const list = document.createElement("div");
    list.className = "legend";
    for (const entry of entries) {
      const item = document.createElement("span");
      const sample = document.createElement("span");  // the line's style, drawn by CSS
      sample.className = "key " + entry.cls.split(" ").map((c) => "key-" + c).join(" ");
      const text = document.createElement("span");
      text.textContent = entry.text;
      item.append(sample, text);
      list.appendChild(item);
    }
    holder.appendChild(list);
  }

  function hover(svg, holder, metric, xs) {
    const sx = (x) => LEFT + ((x - xs[0]) / (xs[1] - xs[0] || 1)) * (RIGHT - LEFT);
    const guide = el("line", { y1: TOP, y2: BOTTOM, class: "guide", visibility: "hidden" }, svg);
    const tip = document.createElement("div");
    tip.className = "tip";
    holder.appendChild(tip);
    const what = band === "t" ? "mean" : data.readings[metric].statistic;
    svg.addEventListener("mousemove", (event) => {
      const box = svg.getBoundingClientRect();
      const px = ((event.clientX - box.left) / box.width) * W;
      const x = Math.round(xs[0] + ((px - LEFT) / (RIGHT - LEFT)) * (xs[1] - xs[0]));
      if (x < xs[0] || x > xs[1]) return;
      guide.setAttribute("x1", sx(x));
      guide.setAttribute("x2", sx(x));
      guide.setAttribute("visibility", "visible");
      tip.replaceChildren();
      const head = document.createElement("b");
      head.textContent = `${metric} (${what}), generation ${x}`;
      tip.appendChild(head);
      data.groups.forEach((group, i) => {
        const c = data.curves[metric][group.name];
        const at = c ? c.x.indexOf(x) : -1;
        if (!shown[i] || at < 0) return;
        const line = document.createElement("div");
        line.style.color = colour(i);
        const [value, b] = band === "t" ? [c.mean, c.t] : [c.value, c.stat];
        line.textContent = `${group.label}: ${fmt(value[at])} [${fmt(b[0][at])}, ${fmt(b[1][at])}]`;
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
    const visible = data.groups.map((g, i) => (shown[i] ? spread.values[g.name] || [] : []));
    const xs = extent(visible), bins = 20, width = (xs[1] - xs[0]) / bins;
    const counts = {};
    let most = 1;
    data.groups.forEach((group, i) => {
      const values = spread.values[group.name];
      if (!values) return;
      counts[group.name] = new Array(bins).fill(0);
      for (const v of values) {
        if (v === null || v < xs[0] || v > xs[1]) continue;
        counts[group.name][Math.min(bins - 1, Math.floor((v - xs[0]) / width))] += 1;
      }
      if (shown[i]) for (const count of counts[group.name]) most = Math.max(most, count);
    });
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" }, holder);
    const label = `${spread.metric} at generation ${spread.generation} (height: seeds)`;
    const { sx, sy } = frame(svg, xs, [0, most * 1.05], label, { whole: true });
    data.groups.forEach((group, i) => {
      const c = counts[group.name];
      if (!c) return;
      const g = el("g", { "data-group": i, class: "series" }, svg);
      if (!shown[i]) g.style.display = "none";
      let d = "M" + sx(xs[0]) + "," + sy(0);
      c.forEach((count, b) => {
        d += "L" + sx(xs[0] + b * width) + "," + sy(count) + "L" + sx(xs[0] + (b + 1) * width) + "," + sy(count);
      });
      d += "L" + sx(xs[1]) + "," + sy(0);
      el("path", { d, stroke: colour(i), fill: colour(i), class: "hist" }, g);
    });
  }

  function controls() {
    const holder = document.getElementById("groups");
    data.groups.forEach((group, i) => {
      const label = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = true;
      box.dataset.group = String(i);
      box.addEventListener("change", () => {
        shown[i] = box.checked;
        drawCharts();  // the axes fit the groups that are shown
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
      drawCharts();
    });
    document.getElementById("log").addEventListener("change", (event) => {
      logY = event.target.checked;
      drawCharts();
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
    const spread = document.getElementById("spread-chart");
    spread.replaceChildren();
    spreadChart(spread);
  }

  controls();
  drawCharts();
  document.body.dataset.ready = "yes";
})();
