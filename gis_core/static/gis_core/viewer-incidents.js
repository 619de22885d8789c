/* The viewer's 事件 tab: the incident queue (filters, most urgent first), a case's card (timeline,
 * deadline in working time, asset, grid and staff, the steps this user may take), and 上报问题 /
 * 一键派遣 from a component's card.
 *
 * Everything goes through /api/incidents/: the buttons shown follow the answer's `next_actions`, and
 * the server checks every step again, so a stale page can only earn a clear refusal, never a wrong
 * write. Built with textContent only (see viewer.js). The clock's fields (time_left_minutes, light,
 * limit, warn_at) and intake's `photos` are shown when the API gives them and skipped when not. */
(function () {
  "use strict";

  const g = window.gridcity;
  const { el, fields, getJSON, map } = g;
  const root = document.getElementById("viewer");
  const heldRoles = new Set((root.dataset.roles || "").split(",").filter(Boolean));
  const REPORTERS = ["grid_worker", "dispatcher", "maintenance_unit", "administrator"];
  const DESK = ["dispatcher", "administrator"];
  const mayReport = REPORTERS.some((r) => heldRoles.has(r));
  const mayDispatch = DESK.some((r) => heldRoles.has(r));

  const api = {
    list: (query) => `/api/incidents/?${query}`,
    detail: (n) => `/api/incidents/${encodeURIComponent(n)}/`,
    action: (n, a) => `/api/incidents/${encodeURIComponent(n)}/actions/${encodeURIComponent(a)}/`,
    report: "/api/incidents/",
    // Intake's photo endpoints: one before a report exists, one for a step on a case.
    stagePhoto: "/api/incidents/photos/",
    casePhoto: (n) => `/api/incidents/${encodeURIComponent(n)}/photos/`,
    classes: (componentClass) => "/api/incidents/classes/" + (componentClass ? `?component_class=${encodeURIComponent(componentClass)}` : ""),
  };

  const STATES = {
    reported: "待受理", dispatched: "立案派遣", handling: "处理中", verifying: "核查结案",
    closed: "结案", void: "作废", on_hold: "挂账", supervision: "督查",
  };
  const OPEN_STATES = ["reported", "dispatched", "handling", "verifying", "on_hold", "supervision"];
  const SOURCES = {
    grid_worker: "网格员上报", hotline_12345: "12345 热线", open311: "市民（Open311）",
    camera: "视频监控", dispatcher: "调度员", unit_patrol: "单位巡查",
  };
  const SEVERITIES = { normal: "一般", major: "重大", urgent: "紧急" };
  // Button labels: what the user is about to do.
  const ACTIONS = {
    dispatch: "一键派遣", accept: "接单", handle: "处置完成", verify: "核查", close: "结案",
    return: "回退", reassign: "改派", void: "作废", hold: "挂账", resume: "恢复", rework: "返工",
    supervise: "督查", release: "解除督查", self_handle: "自行处置", request_extension: "延期申请",
    approve_extension: "批准延期", reject_extension: "驳回延期", merge: "合并",
  };
  // Timeline labels: what happened.
  const EVENTS = { ...ACTIONS, report: "上报", dispatch: "立案派遣", escalate: "升级督办" };
  const LIGHTS = { green: "绿灯", yellow: "黄灯", red: "红灯" };
  // The clock's units (layers/incidents/clock.py Unit) and stages (clock_models.Stage).
  const UNITS = {
    working_minutes: "工作分钟", working_hours: "工作时", working_days: "工作日",
    calendar_minutes: "自然分钟", calendar_hours: "自然小时", calendar_days: "自然日",
  };
  const STAGES = { dispatch: "受理派遣", handle: "处置", verify: "核查结案" };
  const LEVELS = ["基础网格", "社区", "街道", "区级"];
  const FIELDS = {
    note: "备注", organisation: "处置单位", class_code: "问题类别", point: "位置", description: "问题描述",
    component_code: "部件", action: "操作", severity: "严重程度", photos: "照片", state: "状态",
    class: "类别", source: "来源", client_token: "提交标识", file: "照片", amount: "延期时长", target: "合并目标案件",
    unit: "单位",
  };

  const filtersForm = document.getElementById("case-filters");
  const queueEl = document.getElementById("case-queue");
  const cardEl = document.getElementById("case-card");
  const statusEl = document.getElementById("case-status");

  function setCaseStatus(text, isError) {
    statusEl.textContent = text || "";
    statusEl.classList.toggle("error", Boolean(isError));
  }

  // ---- talking to the API --------------------------------------------------------------------

  function csrfToken() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // A refusal in Chinese first (what to do about it), then the server's own words for the record.
  async function refusal(r) {
    let body = {};
    try { body = await r.json(); } catch (e) { /* not JSON: a proxy's page */ }
    if (r.status === 401) { g.logInAgain(); }
    const field = body.field || null;
    let text = {
      400: "输入有误", 401: "登录已过期，请重新登录", 403: "无权进行此操作", 404: "未找到该案件",
      409: "当前状态不允许此操作", 413: "上传内容过大", 429: "操作过于频繁，请稍后再试",
    }[r.status] || `请求失败（${r.status}）`;
    if (field === "note") text = "请先在备注中填写原因";
    else if (field && FIELDS[field]) text += `：${FIELDS[field]}`;
    if (r.status === 409 && Array.isArray(body.allowed)) {
      text += body.allowed.length ? `；当前可进行：${body.allowed.map((a) => ACTIONS[a] || a).join("、")}` : "；当前无可进行的操作";
    }
    const error = new Error(body.message ? `${text}（${body.message}）` : text);
    error.field = field;
    error.status = r.status;
    return error;
  }

  async function send(method, url, body) {
    let r;
    try {
      r = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new Error("网络连接失败，请检查网络后重试");
    }
    if (!r.ok) throw await refusal(r);
    return r.json();
  }

  async function read(url) {
    const r = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json", "X-Requested-With": "XMLHttpRequest" } }).catch(() => null);
    if (!r) throw new Error("网络连接失败，请检查网络后重试");
    if (!r.ok) throw await refusal(r);
    return r.json();
  }

  function newToken() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  }

  // After a change the server drops its cached tiles; the map must ask again.
  function refreshTiles() {
    if (map.getSource("incidents") && map.refreshTiles) map.refreshTiles("incidents");
  }

  // ---- time ----------------------------------------------------------------------------------

  function when(iso) {
    if (!iso) return null;
    return new Date(iso).toLocaleString("zh-CN", {
      timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hour12: false,
    });
  }

  // Working minutes when the clock gives them (wall minutes for a calendar limit); else the wall
  // minutes to due_at.
  function minutesLeft(p) {
    if (typeof p.time_left_minutes === "number") {
      return { minutes: p.time_left_minutes, working: !(p.limit && String(p.limit.unit).startsWith("calendar")) };
    }
    if (p.due_at) return { minutes: Math.round((new Date(p.due_at) - Date.now()) / 60000), working: false };
    return null;
  }

  function leftText(p) {
    const left = minutesLeft(p);
    if (!left) return "无时限";
    const m = Math.abs(left.minutes);
    const unit = left.working ? "工作时" : "小时";
    const span = m >= 60 ? `${Math.floor(m / 60)} ${unit} ${m % 60} 分` : `${m} 分`;
    return left.minutes < 0 ? `已超时 ${span}` : `剩余 ${span}`;
  }

  function lightOf(p) {
    if (p.light !== undefined) return p.light;
    if (["closed", "void"].includes(p.state) || !p.due_at) return null;
    const now = Date.now();
    if (new Date(p.due_at) <= now) return "red";
    if (p.warn_at && new Date(p.warn_at) <= now) return "yellow";
    return "green";
  }

  function overdue(p) {
    const left = minutesLeft(p);
    return lightOf(p) === "red" || (left !== null && left.minutes < 0);
  }

  function lightBadge(p) {
    const light = lightOf(p);
    if (!light) return el("span", { class: "light none", title: "无时限" }, "—");
    return el("span", { class: `light ${light}`, "data-light": light }, LIGHTS[light] || light);
  }

  // ---- the queue -----------------------------------------------------------------------------

  // The clock adds ordering=time_left and overdue= to the list (and light, time_left_minutes to each
  // case). A server without the clock either refuses them (a 400 naming the parameter: asked again
  // without) or ignores them (its answers carry no `light`): then the page sorts and filters what it
  // got, by due_at.
  const serverKnows = { ordering: true, overdue: true, escalated: true };
  let queueRequest = 0;

  function queueQuery() {
    const chosen = new FormData(filtersForm);
    const q = new URLSearchParams();
    const state = chosen.get("state");
    if (state === "open") q.set("state", OPEN_STATES.join(","));
    else if (state) q.set("state", state);
    for (const name of ["class", "source", "unit"]) if (chosen.get(name)) q.set(name, chosen.get(name));
    if (chosen.get("overdue") && serverKnows.overdue) q.set("overdue", "true");
    if (chosen.get("escalated") && serverKnows.escalated) q.set("escalated", "true");
    if (serverKnows.ordering) q.set("ordering", "time_left");
    q.set("page_size", "200");
    return q.toString();
  }

  async function fetchQueue() {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await read(api.list(queueQuery()));
      } catch (e) {
        if (e.status === 400 && e.field in serverKnows && serverKnows[e.field]) {
          serverKnows[e.field] = false;
          continue;
        }
        throw e;
      }
    }
    throw new Error("事件列表读取失败");
  }

  function sortKey(p) {
    const left = minutesLeft(p);
    return left === null ? Infinity : left.minutes;
  }

  async function loadQueue() {
    const mine = ++queueRequest;
    setCaseStatus("正在读取事件…");
    let page;
    try {
      page = await fetchQueue();
    } catch (e) {
      if (mine === queueRequest) setCaseStatus(`事件列表读取失败：${e.message}`, true);
      return;
    }
    if (mine !== queueRequest) return; // a newer filter choice is on its way
    const got = page.features || [];
    let rows = got;
    const clock = rows.length > 0 && "light" in rows[0].properties;
    if (!clock || !serverKnows.overdue) {
      if (new FormData(filtersForm).get("overdue")) rows = rows.filter((f) => overdue(f.properties));
    }
    // Escalation adds escalation_level and escalated=; a server without it leaves the box without effect.
    if (new FormData(filtersForm).get("escalated") && rows.length && "escalation_level" in rows[0].properties) {
      rows = rows.filter((f) => f.properties.escalation_level > 0);
    }
    if (!clock || !serverKnows.ordering) {
      rows = rows.slice().sort((a, b) => sortKey(a.properties) - sortKey(b.properties)
        || String(a.properties.number).localeCompare(String(b.properties.number)));
    }
    rememberUnits(rows);
    queueEl.replaceChildren(...rows.map(queueRow));
    // The server's count holds when it did the filtering; past one page only the first page is here.
    const total = rows.length === got.length && page.count !== undefined ? page.count : rows.length;
    const more = total > rows.length ? `，显示前 ${rows.length} 件` : "";
    setCaseStatus(rows.length ? `共 ${total} 件${more}，按剩余时间排序` : "没有符合条件的事件");
  }

  function queueRow(f) {
    const p = f.properties;
    const left = minutesLeft(p);
    return el("li", { class: "case-row", "data-number": p.number, "data-light": lightOf(p) || "", "data-left": left ? left.minutes : "" },
      el("button", { type: "button", onclick: () => openCase(p.number) },
        lightBadge(p),
        el("span", { class: "case-main" },
          el("strong", {}, p.number, p.escalation_level > 0 ? el("span", { class: "escalated" }, `升级·${LEVELS[p.escalation_level] || p.escalation_level}`) : null),
          el("small", {}, `${p.class_name} · ${p.state_name || STATES[p.state] || p.state}`,
            p.assigned_org ? ` · ${p.assigned_org.name}` : "")),
        el("span", { class: `case-left${overdue(p) ? " late" : ""}` }, leftText(p))));
  }

  const knownUnits = new Map();
  function rememberUnits(rows) {
    const select = document.getElementById("case-filter-unit");
    for (const f of rows) {
      const org = f.properties.assigned_org;
      if (!org || knownUnits.has(org.uscc)) continue;
      knownUnits.set(org.uscc, org.name);
      select.append(el("option", { value: org.uscc }, org.name));
    }
  }

  async function buildFilters() {
    const states = document.getElementById("case-filter-state");
    for (const [code, name] of Object.entries(STATES)) states.append(el("option", { value: code }, name));
    const sources = document.getElementById("case-filter-source");
    for (const [code, name] of Object.entries(SOURCES)) sources.append(el("option", { value: code }, name));
    const classes = document.getElementById("case-filter-class");
    try {
      const majors = new Map();
      for (const c of await read(api.classes())) {
        const key = c.major_code || "";
        if (!majors.has(key)) {
          const group = el("optgroup", { label: `${c.major_code || ""} ${c.major_name || "其他"}` });
          if (c.major_code) group.append(el("option", { value: c.major_code }, `全部${c.major_name}`));
          majors.set(key, group);
          classes.append(group);
        }
        majors.get(key).append(el("option", { value: c.code }, `${c.code} ${c.name}`));
      }
    } catch (e) {
      setCaseStatus(`案件类别读取失败：${e.message}`, true);
    }
    filtersForm.addEventListener("change", loadQueue);
  }

  // ---- the case card -------------------------------------------------------------------------

  function showQueue() {
    cardEl.replaceChildren();
    queueEl.hidden = false;
    filtersForm.hidden = false;
    loadQueue();
  }

  async function openCase(number, message) {
    // A card still open on the map (a grid, a component) would lie over the case's point.
    g.closePopup();
    selectTab("incidents");
    queueEl.hidden = true;
    filtersForm.hidden = true;
    setCaseStatus("正在读取案件…");
    try {
      const f = await read(api.detail(number));
      renderCard(f, message);
      setCaseStatus("");
      return f;
    } catch (e) {
      cardEl.replaceChildren(backButton(), el("p", { class: "error", role: "alert" }, `案件 ${number}：${e.message}`));
      setCaseStatus("");
      return null;
    }
  }

  // The search box: a case number opens its card; false when there is no such case (or none visible).
  async function findCase(number) {
    try {
      const f = await read(api.detail(number));
      g.closePopup();
      selectTab("incidents");
      queueEl.hidden = true;
      filtersForm.hidden = true;
      renderCard(f);
      return true;
    } catch (e) {
      return false;
    }
  }

  function backButton() {
    return el("button", { type: "button", class: "back", onclick: showQueue }, "« 返回事件列表");
  }

  function deadline(p) {
    const rows = [];
    const light = lightOf(p);
    const box = el("div", { class: `deadline${light ? ` ${light}` : ""}`, "data-due-at": p.due_at || "" });
    if (!p.due_at) {
      box.append(el("p", { class: "muted" }, ["closed", "void"].includes(p.state) ? "已办结，不再计时" : "当前阶段暂无时限"));
      return box;
    }
    rows.push(["处置时限", el("span", { class: "due-at" }, when(p.due_at))]);
    if (p.limit) {
      const unit = UNITS[p.limit.unit] || p.limit.unit;
      const stage = p.limit.stage ? `（${STAGES[p.limit.stage] || p.limit.stage}阶段）` : "";
      rows.push(["时限标准", `${p.limit.amount} ${unit}${stage}`]);
    }
    if (p.warn_at) rows.push(["黄灯预警", when(p.warn_at)]);
    rows.push(["剩余时间", el("span", {}, lightBadge(p), " ", leftText(p))]);
    if (p.clock_paused) rows.push(["计时", "已暂停（挂账或延期审批中）"]);
    box.append(fields(rows));
    const left = minutesLeft(p);
    box.append(el("p", { class: "note" }, left && left.working
      ? "时限按工作时计算：周末、法定节假日与午休不计，调休上班日照常计时。"
      : "时限按自然时间计算。"));
    if (p.calendar_known === false) {
      box.append(el("p", { class: "error" }, "注意：时限跨越尚无工作日历的年份，仅按周末推算，请管理员补充日历。"));
    }
    return box;
  }

  function staffList(p) {
    const staff = p.grid_staff;
    if (!Array.isArray(staff) || !staff.length) return null;
    return el("div", {},
      el("h4", {}, "网格人员"),
      el("ul", { class: "staff" }, ...staff.map((s) => el("li", {},
        `${s.level_name || ""}${s.duty ? ` ${s.duty}` : ""}${s.level_name || s.duty ? "：" : ""}${s.name || "—"}`,
        s.phone ? ` ${s.phone}` : ""))));
  }

  function caseLink(number) {
    return el("a", { href: "#", class: "case-link", onclick: (ev) => { ev.preventDefault(); openCase(number); } }, ` ${number}`);
  }

  function reporterList(p) {
    const people = p.reporters;
    if (!Array.isArray(people) || !people.length) return null;
    return el("div", {},
      el("h4", {}, "上报人"),
      el("ul", { class: "staff" }, ...people.map((r) => el("li", {},
        r.name || "（未留姓名）", r.phone ? ` ${r.phone}` : "", r.source ? ` · ${SOURCES[r.source] || r.source}` : "",
        r.reported_at ? ` · ${when(r.reported_at)}` : "", r.from_case ? ` · 来自 ${r.from_case}` : ""))));
  }

  function timeline(events) {
    return el("ol", { class: "timeline" }, ...(events || []).map((e) => {
      const move = e.from_state && e.from_state !== e.to_state
        ? `${STATES[e.from_state] || e.from_state} → ${STATES[e.to_state] || e.to_state}`
        : STATES[e.to_state] || e.to_state;
      const photos = Array.isArray(e.photos) && e.photos.length
        ? el("div", { class: "photos" }, ...e.photos.map((url) => el("a", { href: url, target: "_blank", rel: "noopener" },
          el("img", { src: url, alt: "现场照片", loading: "lazy" }))))
        : null;
      return el("li", { "data-action": e.action },
        el("div", { class: "what" }, el("strong", {}, EVENTS[e.action] || e.action), el("span", { class: "move" }, ` ${move}`)),
        el("div", { class: "who" }, `${when(e.at)} · ${e.actor || "系统"}`, e.organisation ? ` · 派往 ${e.organisation.name}` : ""),
        e.note ? el("div", { class: "note" }, e.note) : null,
        photos);
    }));
  }

  function actionsBox(f) {
    const p = f.properties;
    const allowed = p.next_actions || [];
    if (!allowed.length) return el("p", { class: "muted" }, "您当前没有可对该案件进行的操作。");
    const note = el("textarea", { id: "case-note", rows: "2", maxlength: "1000", placeholder: "备注（回退、作废、挂账、督查、返工等须填写原因）" });
    const routes = allowed.includes("reassign") || allowed.includes("dispatch");
    const org = routes
      ? el("input", { id: "case-org", type: "text", maxlength: "18", placeholder: "派往单位统一社会信用代码（一键派遣可留空）", autocomplete: "off" })
      : null;
    const extending = allowed.includes("request_extension") || allowed.includes("approve_extension");
    const amount = extending ? el("input", { id: "case-ext-amount", type: "number", min: "1", step: "1", placeholder: "时长" }) : null;
    const unit = extending
      ? el("select", { id: "case-ext-unit" }, ...["working_hours", "working_days", "calendar_days"].map((u) => el("option", { value: u }, UNITS[u])))
      : null;
    const photos = photoInput("case-photos");
    const target = allowed.includes("merge")
      ? el("input", { id: "case-merge-target", type: "text", maxlength: "14", inputmode: "numeric", placeholder: "保留的案件编号（本案作为重复件并入）" })
      : null;
    const error = el("p", { class: "error", role: "alert" });
    const inputs = { note, org, amount, unit, photos, target, error };
    const buttons = allowed.map((action) => el("button", {
      type: "button", class: `act act-${action}`, "data-action": action,
      onclick: (ev) => act(p.number, action, { ...inputs, buttons: ev.currentTarget.parentNode }),
    }, ACTIONS[action] || action));
    return el("div", { class: "case-actions" },
      el("h4", {}, "操作"),
      el("label", { class: "stack" }, "备注", note),
      org ? el("label", { class: "stack" }, "处置单位", org) : null,
      extending ? el("label", { class: "stack" }, "延期时长（延期申请 / 批准延期）", el("span", { class: "row" }, amount, unit)) : null,
      target ? el("label", { class: "stack" }, "合并到", target) : null,
      el("label", { class: "stack" }, "现场照片（可选）", photos),
      el("div", { class: "buttons" }, ...buttons),
      error);
  }

  function photoInput(id) {
    return el("input", { id, name: "photos", type: "file", accept: "image/jpeg,image/png,image/webp", multiple: "" });
  }

  // Photos go up first, one request each (intake answers each with an id); the report or step then
  // names the ids.
  async function uploadPhotos(url, input) {
    const ids = [];
    for (const file of input.files || []) {
      const data = new FormData();
      data.append("file", file);
      const r = await fetch(url, {
        method: "POST", credentials: "same-origin", headers: { Accept: "application/json", "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" }, body: data,
      }).catch(() => null);
      if (!r) throw new Error("网络连接失败，照片未能上传");
      if (r.status === 404 || r.status === 405) throw new Error("照片上传暂不可用");
      if (!r.ok) { const e = await refusal(r); throw new Error(`照片“${file.name}”上传失败：${e.message}`); }
      ids.push((await r.json()).id);
    }
    return ids;
  }

  async function act(number, action, { note, org, amount, unit, photos, target, error, buttons }) {
    const body = { note: note.value.trim() };
    if (org && org.value.trim() && (action === "dispatch" || action === "reassign")) body.organisation = org.value.trim();
    if (amount && amount.value && (action === "request_extension" || action === "approve_extension")) {
      body.amount = amount.value;
      body.unit = unit.value;
    }
    if (target && target.value.trim() && action === "merge") body.target = target.value.trim();
    error.textContent = "";
    note.classList.remove("invalid");
    for (const b of buttons.querySelectorAll("button")) b.disabled = true;
    try {
      if (photos.files && photos.files.length) body.photos = await uploadPhotos(api.casePhoto(number), photos);
      const f = await send("POST", api.action(number, action), body);
      refreshTiles();
      renderCard(f, `已${ACTIONS[action] || action}`);
      loadQueueQuietly();
    } catch (e) {
      error.textContent = e.message;
      if (e.field === "note") { note.classList.add("invalid"); note.focus(); }
      for (const b of buttons.querySelectorAll("button")) b.disabled = false;
    }
  }

  function loadQueueQuietly() {
    if (!queueEl.hidden) loadQueue();
  }

  function renderCard(f, message) {
    const p = f.properties;
    const grid = [p.grid_code, p.community_code, p.street_code].some(Boolean)
      ? [["单元网格", p.grid_code], ["社区", p.community_code], ["街道", p.street_code]]
      : [["网格", "（不在任何网格内）"]];
    const duplicates = Array.isArray(p.possible_duplicates) && p.possible_duplicates.length
      ? el("p", { class: "warn" }, "附近 24 小时内可能重复的案件：",
        ...p.possible_duplicates.map(caseLink))
      : null;
    const card = el("div", { class: "gc-card case-card", "data-kind": "case", "data-number": p.number, "data-state": p.state },
      backButton(),
      message ? el("p", { class: "ok", role: "status" }, message) : null,
      el("h3", {}, p.class_name, " ", el("small", {}, p.number)),
      el("p", { class: "state" }, el("span", { class: `state-badge state-${p.state}` }, p.state_name || STATES[p.state]), " ", lightBadge(p)),
      duplicates,
      p.merged_into ? el("p", { class: "warn" }, "本案已作为重复件并入 ", caseLink(p.merged_into)) : null,
      Array.isArray(p.merged_from) && p.merged_from.length ? el("p", { class: "muted" }, "已并入本案的重复件：", ...p.merged_from.map(caseLink)) : null,
      fields([
        ["案件编号", p.number],
        ["问题类别", `${p.class_code} ${p.class_name}`],
        ["来源", SOURCES[p.source] || p.source],
        ["严重程度", SEVERITIES[p.severity] || p.severity],
        ["问题描述", p.description],
        ["处置单位", p.assigned_org ? p.assigned_org.name : null],
        ...(p.escalation_level ? [["升级至", LEVELS[p.escalation_level] || `第 ${p.escalation_level} 级`]] : []),
        ["上报时间", when(p.created_at)],
        ...grid,
        ["部件", p.component_code ? el("a", { href: `/c/${encodeURIComponent(p.component_code)}`, target: "_blank", rel: "noopener", class: "asset" }, `${p.component_code} 部件身份证 »`) : null],
      ]),
      el("h4", {}, "时限"), deadline(p),
      staffList(p),
      reporterList(p),
      el("h4", {}, "处理记录"), timeline(p.events),
      g.cameras && f.geometry && f.geometry.coordinates ? g.cameras.nearby(f.geometry.coordinates) : null,
      actionsBox(f));
    cardEl.replaceChildren(card);
    document.getElementById("panel").scrollTop = 0; // the result message and the card's head first
    if (f.geometry && f.geometry.coordinates) flyNear(f.geometry.coordinates);
  }

  function flyNear(lonLat) {
    const shown = map.getBounds();
    if (!shown.contains(lonLat)) map.easeTo({ center: lonLat, zoom: Math.max(map.getZoom(), 16) });
  }

  // ---- 上报问题 / 一键派遣 from a component's card --------------------------------------------

  function componentActions(f, at) {
    const box = el("div", { class: "gc-actions" });
    if (!mayReport) return box;
    const point = Array.isArray(at) ? at : [at.lng, at.lat];
    const open = (dispatch) => {
      box.replaceChildren(reportForm(f, point, dispatch, box));
      // The form makes the popup tall: bring the point near the top so the popup hangs below it.
      const height = map.getContainer().clientHeight;
      map.easeTo({ center: point, offset: [0, Math.min(0, 40 - height / 2)], duration: 300 });
    };
    box.append(el("button", { type: "button", class: "report", onclick: () => open(false) }, "上报问题"));
    if (mayDispatch) box.append(el("button", { type: "button", class: "dispatch", onclick: () => open(true) }, "一键派遣"));
    return box;
  }

  function reportForm(f, point, dispatch, box) {
    const p = f.properties;
    const classSelect = el("select", { name: "class_code", required: "" }, el("option", { value: "" }, "正在读取问题类别…"));
    const description = el("textarea", { name: "description", rows: "2", maxlength: "2000", placeholder: "问题描述，如：路灯不亮" });
    const severity = el("select", { name: "severity" },
      ...Object.entries(SEVERITIES).map(([code, name]) => el("option", { value: code }, name)));
    const photos = photoInput("report-photos");
    const error = el("p", { class: "error", role: "alert" });
    const submit = el("button", { type: "submit", class: "primary" }, dispatch ? "上报并派遣" : "上报");
    const token = newToken(); // one case however often the button is pressed
    const form = el("form", { class: "report-form", "data-mode": dispatch ? "dispatch" : "report" },
      el("h4", {}, dispatch ? "一键派遣：上报并派往养护单位" : "上报问题"),
      el("p", { class: "muted" }, `部件 ${f.id}${p.maintainer ? `，养护单位：${p.maintainer.name}` : ""}`),
      el("label", { class: "stack" }, "问题类别", classSelect),
      el("label", { class: "stack" }, "问题描述", description),
      el("label", { class: "stack" }, "严重程度", severity),
      el("label", { class: "stack" }, "现场照片（可选）", photos),
      el("div", { class: "buttons" }, submit,
        el("button", { type: "button", onclick: () => box.replaceChildren(...componentActions(f, point).childNodes) }, "取消")),
      error);
    read(api.classes(p.class_code)).then((rows) => {
      if (!rows.length) {
        classSelect.replaceChildren(el("option", { value: "" }, "该类部件暂无可上报的问题类别"));
        submit.disabled = true;
        return;
      }
      classSelect.replaceChildren(...rows.map((c) => el("option", { value: c.code }, `${c.code} ${c.name}`)));
    }, (e) => { error.textContent = `问题类别读取失败：${e.message}`; });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      error.textContent = "";
      if (!classSelect.value) { error.textContent = "请选择问题类别"; return; }
      submit.disabled = true;
      let created;
      try {
        const body = {
          class_code: classSelect.value, point, crs: "EPSG:4490", component_code: f.id,
          description: description.value.trim(), severity: severity.value, client_token: token,
        };
        if (photos.files && photos.files.length) body.photos = await uploadPhotos(api.stagePhoto, photos);
        created = await send("POST", api.report, body);
      } catch (e) {
        error.textContent = `上报失败：${e.message}`;
        submit.disabled = false;
        return;
      }
      const number = created.id;
      let message = `已上报，案件编号 ${number}`;
      if (dispatch) {
        try {
          const sent = await send("POST", api.action(number, "dispatch"), { note: "一键派遣" });
          const unit = sent.properties.assigned_org;
          message = `已上报并派遣至 ${unit ? unit.name : "处置单位"}，案件编号 ${number}`;
        } catch (e) {
          message = `已上报（案件编号 ${number}），但派遣失败：${e.message}`;
        }
      }
      refreshTiles();
      // The case's card in the panel carries on from here; on a phone the popup would only hide the map.
      g.closePopup();
      openCase(number, message);
    });
    return form;
  }

  // ---- tabs ----------------------------------------------------------------------------------

  // The queue and the map tell the same story: the 事件 tab turns the incidents layer on.
  function showIncidentLayer() {
    const box = document.querySelector("#layer-tree input[data-layer='incidents']");
    if (box && !box.checked) box.click();
    else if (!box && g.styleLayersOf.incidents) g.setVisible("incidents", true);
  }

  let filtersBuilt = null;
  function selectTab(name) {
    for (const tab of ["map", "incidents"]) {
      const on = tab === name;
      document.getElementById(`tab-${tab}`).hidden = !on;
      document.getElementById(`tab-${tab}-button`).setAttribute("aria-selected", String(on));
    }
    document.getElementById("panel").classList.toggle("incidents-open", name === "incidents");
    if (name === "incidents") showIncidentLayer();
    if (name === "incidents" && !filtersBuilt) {
      filtersBuilt = buildFilters().then(() => { if (!queueEl.hidden) return loadQueue(); });
    }
  }
  document.getElementById("tab-map-button").addEventListener("click", () => selectTab("map"));
  document.getElementById("tab-incidents-button").addEventListener("click", () => selectTab("incidents"));

  g.incidents = { openCase, findCase, componentActions, loadQueue, selectTab };
})();
