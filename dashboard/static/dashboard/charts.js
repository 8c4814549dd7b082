/*
 * Draws the dashboard's charts. Each <canvas data-chart="ID"> reads its Chart.js
 * configuration from the JSON block <script id="ID" type="application/json"> that the page
 * renders with Django's json_script. Python builds the configuration; this file only adds
 * what JSON cannot carry: number formats ("format" on an axis) and the heatmap's shades.
 * Once a chart is drawn, the tables with the same numbers fold away (one click opens them);
 * without JavaScript, or if the chart library failed to load, they stay open.
 */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") {
    return;
  }
  var Chart = window.Chart;
  Chart.defaults.color = "#1b1f23";
  Chart.defaults.borderColor = "#d0d7de";
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
  Chart.defaults.font.size = 13;
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;

  var FORMATS = {
    percent: function (v) { return Math.round(v * 1000) / 10 + "%"; },
    hours: function (v) { return Math.round(v * 10) / 10 + " h"; },
    integer: function (v) { return Number.isInteger(v) ? v.toLocaleString("en") : ""; }
  };

  function formatValue(format, raw) {
    if (raw === null || raw === undefined) { return "no data"; }
    if (Array.isArray(raw)) { return format(raw[0]) + " – " + format(raw[1]); }
    return format(raw);
  }

  function applyFormats(config) {
    var options = config.options = config.options || {};
    var scales = options.scales || {};
    var valueFormat = null;
    Object.keys(scales).forEach(function (key) {
      var scale = scales[key];
      var name = scale.format;
      delete scale.format;
      if (!name || !FORMATS[name]) { return; }
      valueFormat = name === "integer" ? String : FORMATS[name];
      scale.ticks = Object.assign({}, scale.ticks, {
        callback: function (value) { return FORMATS[name](value); }
      });
    });
    if (valueFormat) {
      options.plugins = options.plugins || {};
      options.plugins.tooltip = {
        callbacks: {
          label: function (ctx) {
            return ctx.dataset.label + ": " + formatValue(valueFormat, ctx.raw);
          }
        }
      };
    }
  }

  function heatmap(config) {
    var dataset = config.data.datasets[0];
    var maximum = dataset.maximum || 1;
    var columns = config.options.scales.x.labels.length;
    var rows = config.options.scales.y.labels.length;
    delete dataset.maximum;
    dataset.backgroundColor = function (ctx) {
      var v = ctx.raw ? ctx.raw.v : 0;
      var alpha = v === 0 ? 0.05 : 0.2 + 0.8 * v / maximum;
      return "rgba(5, 80, 174, " + alpha.toFixed(3) + ")";
    };
    dataset.borderColor = "#ffffff";
    dataset.borderWidth = 1;
    dataset.width = function (ctx) {
      var area = ctx.chart.chartArea;
      return area ? area.width / columns - 1 : 0;
    };
    dataset.height = function (ctx) {
      var area = ctx.chart.chartArea;
      return area ? area.height / rows - 1 : 0;
    };
    config.options.scales.x.offset = true;
    config.options.scales.x.grid = { display: false };
    config.options.scales.y.grid = { display: false };
    config.options.plugins = {
      legend: { display: false },
      tooltip: {
        callbacks: {
          title: function () { return ""; },
          label: function (ctx) {
            return ctx.raw.y + " " + ctx.raw.x + ":00 — " + ctx.raw.v + " cases";
          }
        }
      }
    };
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) { return; }
    // The box's height comes from a data attribute, set here through the DOM: the
    // Content-Security-Policy allows no inline style attributes.
    var box = canvas.parentNode;
    if (box && box.getAttribute("data-height")) {
      box.style.height = box.getAttribute("data-height") + "px";
    }
    var config = JSON.parse(source.textContent);
    if (config.heatmap) {
      delete config.heatmap;
      heatmap(config);
    }
    applyFormats(config);
    new Chart(canvas, config);
    canvas.setAttribute("data-rendered", "true");
    var panel = canvas.closest("section");
    if (panel) {
      panel.querySelectorAll("details[data-fallback]").forEach(function (details) {
        details.removeAttribute("open");
      });
    }
  }

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    try {
      draw(canvas);
    } catch (error) {
      canvas.setAttribute("data-rendered", "failed");
      if (window.console) { window.console.error(error); }
    }
  });
}());
