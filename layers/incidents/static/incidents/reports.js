// The reports page: reads the report and safety-index APIs and draws plain SVG charts (no library).
(function () {
  "use strict";

  var root = document.getElementById("reports");
  if (!root) return;
  var form = document.getElementById("report-form");
  var status = document.getElementById("report-status");
  var SVG = "http://www.w3.org/2000/svg";
  var COLOURS = { received: "#2563eb", closed: "#16a34a", grid: "#0f766e", escalated: "#f59e0b", law: "#7c3aed" };

  function el(name, attrs, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function svg(width, height) {
    return el("svg", { viewBox: "0 0 " + width + " " + height, role: "img" });
  }

  function query(extra) {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value !== "" && (form.period.value === "range" || (key !== "date_from" && key !== "date_to"))) params.set(key, value);
    });
    Object.keys(extra || {}).forEach(function (k) { params.set(k, extra[k]); });
    return params.toString();
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.message || r.statusText);
        return body;
      });
    });
  }

  function fmt(v) { return v === null || v === undefined ? "—" : String(v); }

  // Grouped horizontal bars: received and closed per row.
  function drawFlow(rows) {
    var box = document.getElementById("chart-flow");
    box.textContent = "";
    rows = rows.slice(0, 20);
    var rowH = 22, left = 130, width = 520, height = Math.max(40, rows.length * rowH + 30);
    var max = Math.max(1, Math.max.apply(null, rows.map(function (r) { return Math.max(r.received, r.closed); })));
    var s = svg(width, height);
    rows.forEach(function (r, i) {
      var y = 20 + i * rowH;
      s.appendChild(el("text", { x: left - 6, y: y + 12, "text-anchor": "end", "font-size": 11 }, (r.name || r.code).slice(0, 12)));
      [["received", 0], ["closed", 9]].forEach(function (pair) {
        var w = (width - left - 40) * r[pair[0]] / max;
        s.appendChild(el("rect", { x: left, y: y + pair[1], width: w, height: 8, fill: COLOURS[pair[0]] }));
        s.appendChild(el("text", { x: left + w + 3, y: y + pair[1] + 8, "font-size": 9 }, r[pair[0]]));
      });
    });
    s.appendChild(el("rect", { x: left, y: 4, width: 10, height: 8, fill: COLOURS.received }));
    s.appendChild(el("text", { x: left + 14, y: 12, "font-size": 10 }, "受理"));
    s.appendChild(el("rect", { x: left + 50, y: 4, width: 10, height: 8, fill: COLOURS.closed }));
    s.appendChild(el("text", { x: left + 64, y: 12, "font-size": 10 }, "结案"));
    box.appendChild(s);
  }

  // One stacked bar of the 70/20/10 figure with its legend.
  function drawShare(total) {
    var box = document.getElementById("chart-share");
    box.textContent = "";
    var parts = [
      ["网格内解决", total.solved_in_grid, COLOURS.grid],
      ["升级后解决", total.solved_escalated, COLOURS.escalated],
      ["执法解决", total.solved_by_law, COLOURS.law],
    ];
    var sum = parts.reduce(function (a, p) { return a + p[1]; }, 0);
    var s = svg(520, 110), x = 10;
    if (!sum) {
      s.appendChild(el("text", { x: 10, y: 40, "font-size": 12 }, "本期无结案"));
    }
    parts.forEach(function (p, i) {
      var w = sum ? 500 * p[1] / sum : 0;
      s.appendChild(el("rect", { x: x, y: 10, width: w, height: 36, fill: p[2] }));
      x += w;
      var pct = sum ? (100 * p[1] / sum).toFixed(1) + "%" : "—";
      s.appendChild(el("rect", { x: 10 + i * 170, y: 62, width: 12, height: 12, fill: p[2] }));
      s.appendChild(el("text", { x: 26 + i * 170, y: 73, "font-size": 12 }, p[0] + " " + p[1] + " (" + pct + ")"));
    });
    box.appendChild(s);
  }

  function safetyColour(score) {
    if (score === null) return "#cbd5e1";
    if (score < 40) return "#b91c1c";
    if (score < 70) return "#f97316";
    if (score < 90) return "#facc15";
    return "#16a34a";
  }

  function drawSafety(body) {
    var box = document.getElementById("chart-safety");
    box.textContent = "";
    var rows = body.rows.filter(function (r) { return r.score !== null; }).slice(0, 15);
    if (!rows.length) {
      box.textContent = "尚未计算平安指数";
      return;
    }
    var rowH = 20, left = 130, width = 520, s = svg(width, rows.length * rowH + 10);
    rows.forEach(function (r, i) {
      var y = 5 + i * rowH, w = (width - left - 40) * r.score / 100;
      s.appendChild(el("text", { x: left - 6, y: y + 12, "text-anchor": "end", "font-size": 11 }, (r.name || r.grid_code).slice(0, 12)));
      s.appendChild(el("rect", { x: left, y: y + 2, width: w, height: 12, fill: safetyColour(r.score) }));
      s.appendChild(el("text", { x: left + w + 3, y: y + 12, "font-size": 10 }, r.score));
    });
    box.appendChild(s);
  }

  function fillTable(table, columns, rows, totalRow) {
    table.textContent = "";
    var head = table.createTHead().insertRow();
    columns.forEach(function (c) {
      var th = document.createElement("th");
      th.textContent = c.title;
      head.appendChild(th);
    });
    var tbody = table.createTBody();
    rows.concat(totalRow ? [totalRow] : []).forEach(function (r, i) {
      var tr = tbody.insertRow();
      if (totalRow && i === rows.length) tr.className = "total";
      columns.forEach(function (c) { tr.insertCell().textContent = fmt(r[c.key]); });
    });
  }

  function drawTotals(total) {
    var box = document.getElementById("totals");
    box.textContent = "";
    [["received", "受理"], ["registered", "立案"], ["closed", "结案"], ["overdue", "超期"], ["escalated", "升级"],
     ["on_time_rate", "按时结案率%"], ["avg_handling_hours", "平均处置(工作小时)"]].forEach(function (p) {
      var card = document.createElement("div");
      card.className = "card";
      var b = document.createElement("b");
      b.textContent = fmt(total[p[0]]);
      card.appendChild(b);
      card.appendChild(document.createTextNode(p[1]));
      box.appendChild(card);
    });
  }

  function load() {
    form.classList.toggle("is-range", form.period.value === "range");
    var url = root.dataset.reportUrl;
    document.getElementById("download-csv").href = url + "?" + query({ format: "csv" });
    document.getElementById("download-xlsx").href = url + "?" + query({ format: "xlsx" });
    status.className = "";
    status.textContent = "正在统计…";
    getJSON(url + "?" + query())
      .then(function (report) {
        var p = report.period;
        status.textContent = p.first + " 至 " + p.last + "，按" + report.level_name + "统计，共 " + report.rows.length + " 项";
        drawTotals(report.total);
        drawFlow(report.rows);
        drawShare(report.total);
        fillTable(document.getElementById("report-table"), report.columns, report.rows, report.total);
        fillTable(document.getElementById("ranking-table"), report.ranking_columns, report.ranking, null);
      })
      .catch(function (err) {
        status.className = "error";
        status.textContent = "统计失败：" + err.message;
      });
    getJSON(root.dataset.safetyUrl + "?level=grid").then(drawSafety).catch(function () {});
  }

  form.addEventListener("submit", function (e) { e.preventDefault(); load(); });
  form.period.addEventListener("change", function () { form.classList.toggle("is-range", form.period.value === "range"); });
  load();
})();
