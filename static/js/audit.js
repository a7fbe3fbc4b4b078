/* Reviewer audit: the accuracy x consistency scatter plot (Chart.js, vendored) and keyboard
   navigation between cases. Data arrives through json_script; nothing here builds HTML. */
(function () {
  "use strict";

  var ACCENT = "#2856c9", BAD = "#b3261e", OK = "#1e7b34", MUTED = "#5f6368";

  function readData() {
    var node = document.getElementById("audit-chart-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function fmt(v) { return (typeof v === "number") ? v.toFixed(3) : "—"; }

  // S-Corr 0 -> accent blue, 1 -> red: the eye finds the spurious critics first.
  function colour(sCorr) {
    var t = Math.max(0, Math.min(1, sCorr || 0));
    var r = Math.round(40 + t * (179 - 40)), g = Math.round(86 + t * (38 - 86)), b = Math.round(201 + t * (30 - 201));
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  // Padded beyond the data (and beyond [0, 1] when a point sits on the edge), so no point is
  // clipped; ticks outside [0, 1] are not labelled.
  function bounds(values, extra) {
    var all = values.concat(extra.filter(function (v) { return typeof v === "number"; }));
    var lo = Math.min.apply(null, all), hi = Math.max.apply(null, all);
    lo = Math.min(Math.floor(lo * 10) / 10, lo - 0.05);
    hi = Math.max(Math.ceil(hi * 10) / 10, hi + 0.05);
    return {
      min: Math.max(-0.05, lo), max: Math.min(1.05, Math.max(hi, lo + 0.1)),
      ticks: { callback: function (v) { return (v < -1e-9 || v > 1 + 1e-9) ? "" : Number(v).toFixed(2); } }
    };
  }

  // Critic names beside their points, drawn through Chart.js's plugin hooks.
  var labelPlugin = {
    id: "criticLabels",
    afterDatasetsDraw: function (chart) {
      var meta = chart.getDatasetMeta(0), ctx = chart.ctx;
      ctx.save();
      ctx.font = "12px system-ui, sans-serif";
      ctx.fillStyle = "#1d1d1f";
      meta.data.forEach(function (el, i) {
        var p = chart.data.datasets[0].data[i];
        ctx.fillText(p.critic, el.x + 9, el.y - 7);
      });
      // The callout: name the similar-accuracy, different-reasons link beside its middle.
      chart.data.datasets.forEach(function (set, k) {
        if (!set.isLink) { return; }
        var pts = chart.getDatasetMeta(k).data;
        if (pts.length < 2) { return; }
        ctx.fillStyle = "#7a4a00";
        ctx.fillText("similar accuracy, different reasons", (pts[0].x + pts[1].x) / 2 + 8, (pts[0].y + pts[1].y) / 2);
      });
      ctx.restore();
    }
  };

  function datasets(data) {
    var byName = {};
    data.points.forEach(function (p) { byName[p.critic] = p; });
    var sets = [{
      type: "scatter", label: "Critics", data: data.points,
      pointBackgroundColor: data.points.map(function (p) { return colour(p.s_corr); }),
      pointBorderColor: data.points.map(function (p) { return p.divergent ? "#f0b400" : "#fff"; }),
      pointBorderWidth: data.points.map(function (p) { return p.divergent ? 3 : 1; }),
      pointRadius: data.points.map(function (p) { return p.divergent ? 9 : 7; }),
      pointHoverRadius: 11
    }];
    data.links.forEach(function (link, k) {
      var a = byName[link[0]], b = byName[link[1]];
      sets.push({
        type: "line", label: k === 0 ? "Similar accuracy, different reasons" : "", isLink: true,
        data: [{ x: a.x, y: a.y }, { x: b.x, y: b.y }], borderColor: "#f0b400",
        borderDash: [6, 4], borderWidth: 2, pointRadius: 0, fill: false
      });
    });
    if (typeof data.ceiling === "number") {
      var n = data.ceiling_n, band = typeof data.ceiling_low === "number";
      if (band) {
        sets.push({
          type: "line", label: "", data: [{ x: -0.05, y: data.ceiling_high }, { x: 1.05, y: data.ceiling_high }],
          borderColor: "rgba(30,123,52,0)", pointRadius: 0, fill: false
        });
        sets.push({
          type: "line", label: "", data: [{ x: -0.05, y: data.ceiling_low }, { x: 1.05, y: data.ceiling_low }],
          borderColor: "rgba(30,123,52,0)", backgroundColor: "rgba(30,123,52,0.14)", pointRadius: 0, fill: "-1"
        });
      }
      sets.push({
        type: "line",
        label: "Human ceiling " + data.ceiling.toFixed(2) + " (n = " + n + " pair" + (n === 1 ? "" : "s") +
          (band ? ", 95% interval " + data.ceiling_low.toFixed(2) + "–" + data.ceiling_high.toFixed(2) : "") + ")",
        data: [{ x: -0.05, y: data.ceiling }, { x: 1.05, y: data.ceiling }], borderColor: OK,
        borderDash: [3, 3], borderWidth: 1.5, pointRadius: 0, fill: false
      });
    }
    return sets;
  }

  function tooltipLines(item) {
    var p = item.raw;
    if (!p.critic) { return item.dataset.label; }
    return [
      p.critic,
      "outcome accuracy " + fmt(p.x) + " · consistency " + fmt(p.y),
      "S-Corr " + fmt(p.s_corr) + " · F-Score " + fmt(p.f_score),
      "AP " + fmt(p.ap) + " · F1 " + fmt(p.f1) + " · valid " + p.valid,
      "scored by " + (p.judge || "?"),
      "click to triage"
    ];
  }

  function draw() {
    var canvas = document.getElementById("audit-scatter");
    var data = readData();
    if (!canvas || !data || typeof window.Chart === "undefined") { return; }
    var old = window.Chart.getChart(canvas);
    if (old) { old.destroy(); }
    var xs = data.points.map(function (p) { return p.x; });
    var ys = data.points.map(function (p) { return p.y; });
    new window.Chart(canvas, {
      data: { datasets: datasets(data) },
      plugins: [labelPlugin],
      options: {
        animation: false, maintainAspectRatio: false, parsing: true,
        scales: {
          x: Object.assign({ type: "linear", title: { display: true, text: "Outcome accuracy" } }, bounds(xs, [])),
          y: Object.assign({ type: "linear", title: { display: true, text: "Rationale consistency (mean recall)" } }, bounds(ys, [data.ceiling, data.ceiling_low, data.ceiling_high]))
        },
        plugins: {
          legend: { labels: { filter: function (item) { return !!item.text; } } },
          tooltip: { filter: function (item) { return item.datasetIndex === 0; },
                     callbacks: { label: tooltipLines } }
        },
        onHover: function (evt, elements) {
          evt.native.target.style.cursor = elements.some(function (e) { return e.datasetIndex === 0; }) ? "pointer" : "default";
        },
        onClick: function (evt, elements) {
          var hit = elements.filter(function (e) { return e.datasetIndex === 0; })[0];
          if (hit) { window.location.assign(data.points[hit.index].url); }
        }
      }
    });
    canvas.dataset.drawn = "1";
  }

  function syncThreshold() {
    var input = document.getElementById("threshold"), out = document.getElementById("threshold-value");
    if (input && out) { out.value = Number(input.value).toFixed(2); }
  }

  function typing(target) {
    return target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.altKey || evt.ctrlKey || evt.metaKey || typing(evt.target)) { return; }
    var id = { j: "next-case", n: "next-case", k: "prev-case", p: "prev-case" }[evt.key];
    var link = id && document.getElementById(id);
    if (link) { evt.preventDefault(); window.location.assign(link.href); }
  });
  document.addEventListener("input", function (evt) {
    if (evt.target && evt.target.id === "threshold") { syncThreshold(); }
  });
  // Case view: hovering or focusing an atom highlights the atoms it is matched with.
  function linkAtoms(evt, on) {
    var atom = evt.target && evt.target.closest ? evt.target.closest("li.atom[data-links]") : null;
    if (!atom) { return; }
    atom.classList.toggle("linked", on);
    atom.getAttribute("data-links").split(" ").forEach(function (id) {
      var other = document.getElementById(id);
      if (other) { other.classList.toggle("linked", on); }
    });
  }
  document.addEventListener("mouseover", function (evt) { linkAtoms(evt, true); });
  document.addEventListener("mouseout", function (evt) { linkAtoms(evt, false); });
  document.addEventListener("focusin", function (evt) { linkAtoms(evt, true); });
  document.addEventListener("focusout", function (evt) { linkAtoms(evt, false); });
  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function () {
    var canvas = document.getElementById("audit-scatter");
    if (canvas && !canvas.dataset.drawn) { draw(); }  // a swapped-in figures region
  });
  if (document.readyState !== "loading") { draw(); }
})();
