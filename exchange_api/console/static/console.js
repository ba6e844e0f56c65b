// govshare console: the only script of our own. Loaded from a file (CSP script-src 'self'):
// pages carry data in attributes, never inline code.
"use strict";

// 应编尽编 coverage bar chart: <div class="chart" data-src="/gaps/coverage.json">.
function drawCoverage(el) {
  fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (d) {
      var chart = echarts.init(el);
      chart.setOption({
        aria: { enabled: true },
        tooltip: { trigger: "axis" },
        grid: { left: 48, right: 16, top: 24, bottom: 72 },
        xAxis: { type: "category", data: d.departments, axisLabel: { interval: 0, rotate: 30 } },
        yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
        series: [{ name: "覆盖率", type: "bar", data: d.coverage, itemStyle: { color: "#1f5fbf" },
                   label: { show: true, position: "top", formatter: "{c}%" } }]
      });
      el.dataset.rendered = String(d.departments.length);
      window.addEventListener("resize", function () { chart.resize(); });
    });
}

// 质检合格率 lines: {x, threshold, series: [{name, data}]}, a dashed line at the threshold.
function drawRates(el) {
  fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (d) {
      if (!d.x.length) { el.textContent = "尚无质检批次"; el.dataset.rendered = "0"; return; }
      var chart = echarts.init(el);
      var series = d.series.map(function (s, i) {
        var line = { name: s.name, type: "line", data: s.data, connectNulls: true,
                     symbolSize: 8, label: { show: d.series.length === 1, formatter: "{c}%" } };
        if (i === 0) {
          line.markLine = { symbol: "none", lineStyle: { type: "dashed", color: "#b42318" },
                            data: [{ yAxis: d.threshold, name: "阈值" }],
                            label: { formatter: "阈值 {c}%" } };
        }
        return line;
      });
      chart.setOption({
        aria: { enabled: true },
        tooltip: { trigger: "axis" },
        legend: { type: "scroll", bottom: 0 },
        grid: { left: 56, right: 72, top: 24, bottom: 64 },
        xAxis: { type: "category", data: d.x },
        yAxis: { type: "value", min: function (v) { return Math.max(0, Math.floor(v.min - 1)); },
                 max: 100, axisLabel: { formatter: "{value}%" } },
        series: series
      });
      el.dataset.rendered = String(d.x.length);
      if (d.decisions) { el.dataset.decisions = d.decisions.join(","); }
      window.addEventListener("resize", function () { chart.resize(); });
    });
}

// Stacked bars: {categories, series: [{name, data}]} (用数: calls per department by outcome).
function drawBars(el) {
  fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (d) {
      var chart = echarts.init(el);
      chart.setOption({
        aria: { enabled: true },
        tooltip: { trigger: "axis" },
        legend: { bottom: 0 },
        grid: { left: 48, right: 16, top: 24, bottom: 80 },
        xAxis: { type: "category", data: d.categories, axisLabel: { interval: 0, rotate: 20 } },
        yAxis: { type: "value", minInterval: 1 },
        series: d.series.map(function (s) {
          return { name: s.name, type: "bar", stack: "calls", data: s.data,
                   label: { show: true, position: "inside" } };
        })
      });
      el.dataset.rendered = String(d.series.reduce(function (n, s) {
        return n + s.data.reduce(function (a, b) { return a + b; }, 0);
      }, 0));
      window.addEventListener("resize", function () { chart.resize(); });
    });
}

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll(".chart[data-src]").forEach(function (el) {
    if (!window.echarts) { return; }
    if (el.dataset.kind === "rates") { drawRates(el); }
    else if (el.dataset.kind === "bars") { drawBars(el); }
    else { drawCoverage(el); }
  });
});

// "添加信息项": ask for the next row index, then count up.
document.addEventListener("htmx:configRequest", function (event) {
  var button = event.detail.elt;
  if (button && button.id === "add-item") {
    event.detail.parameters.index = button.dataset.nextIndex;
    button.dataset.nextIndex = String(Number(button.dataset.nextIndex) + 1);
  }
});
