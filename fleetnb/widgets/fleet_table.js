// fleetnb live table. Every value is agent data: it goes in with textContent only.
const STATES = {
  starting: "◌", running: "▶", waiting: "⚑", idle: "○", done: "✔",
  failed: "✖", stopped: "■", limited: "◔", stalled: "⚠",
};
const ALERT_STATES = new Set(["waiting", "failed", "stalled"]);
const COLUMNS = [
  ["name", "Agent"], ["harness", "Harness"], ["model", "Model"], ["task", "Task"],
  ["state", "State"], ["elapsed_s", "Elapsed"], ["last_action", "Last action"],
  ["total_tokens", "Tokens"], ["cost_usd", "Cost"], ["pending_approvals", "Approvals"],
  ["api_errors", "API check"], ["notes", "Notes"],
];

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function elapsed(s) {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function tokens(n) {
  if (n < 1000) return String(n);
  return n < 1e6 ? `${(n / 1e3).toFixed(1)}k` : `${(n / 1e6).toFixed(2)}M`;
}

// Errors and warnings on the agent's changed lines at its latest API check.
function apiCheck(row) {
  if (row.api_errors == null) return "";
  if (!row.api_errors && !row.api_warnings) return "✔";
  const parts = [];
  if (row.api_errors) parts.push(`${row.api_errors} ✖`);
  if (row.api_warnings) parts.push(`${row.api_warnings} ⚠`);
  return parts.join(" ");
}

function fillRow(tr, row) {
  tr.replaceChildren();
  tr.dataset.agent = row.name;
  tr.dataset.state = row.state;
  tr.dataset.id = row.id;
  const name = h("td", "fleetnb-name", row.name);
  if (row.demo) name.append(" ", h("span", "fleetnb-demo", "demo"));
  const task = h("td", "fleetnb-task", row.task);
  task.title = row.task_full;
  const state = h("td", `fleetnb-state fleetnb-state-${row.state}`);
  state.append(h("span", "fleetnb-icon", STATES[row.state] || "?"), " ", row.state);
  let cost = row.demo && !row.cost_usd ? "demo" : `$${row.cost_usd.toFixed(4)}`;
  if (row.budget_usd != null) cost = `$${row.spent_usd.toFixed(4)} / $${row.budget_usd.toFixed(4)}`;
  const approvals = h("td", "fleetnb-num", row.pending_approvals || "");
  if (row.pending_approvals) approvals.classList.add("fleetnb-pending");
  const action = h("td", "fleetnb-action", row.last_action);
  action.title = row.last_action;
  const check = h("td", "fleetnb-check", apiCheck(row));
  if (row.api_errors) check.classList.add("fleetnb-check-errors");
  const notes = h("td", "fleetnb-notes", row.notes || "");
  if (row.annotations > 1) notes.title = `${row.annotations} annotations; the latest shown`;
  tr.append(
    name, h("td", "", row.harness), h("td", "", row.model), task, state,
    h("td", "fleetnb-num", elapsed(row.elapsed_s)), action,
    h("td", "fleetnb-num", tokens(row.total_tokens)), h("td", "fleetnb-num", cost), approvals,
    check, notes,
  );
}

let titleTimer = null;
function flashTitle(text) {
  const original = titleTimer ? titleTimer.original : document.title;
  if (titleTimer) clearInterval(titleTimer.id);
  let flips = 0;
  const id = setInterval(() => {
    flips += 1;
    document.title = flips % 2 ? text : original;
    if (flips >= 6) { clearInterval(id); document.title = original; titleTimer = null; }
  }, 500);
  titleTimer = { id, original };
  document.title = text;
}

function alertFor(tr, row) {
  tr.dataset.alert = row.state;
  tr.classList.remove("fleetnb-flash");
  void tr.offsetWidth; // restart the animation
  tr.classList.add("fleetnb-flash");
  window.__fleetnbAlerts = (window.__fleetnbAlerts || 0) + 1;
  (window.__fleetnbAlertLog = window.__fleetnbAlertLog || []).push({ agent: row.name, state: row.state });
  const text = `fleetnb: ${row.name} is ${row.state}`;
  const granted = "Notification" in window && Notification.permission === "granted";
  if (granted && window.__fleetnbNotify !== false) {
    try { new Notification(text, { body: row.last_action, tag: `fleetnb-${row.id}` }); return; }
    catch (e) { /* some browsers allow notifications from service workers only */ }
  }
  flashTitle(`⚠ ${text}`);
}

function alertsButton() {
  const button = h("button", "fleetnb-alerts-toggle");
  const label = () => {
    if (!("Notification" in window)) return "alerts: title only";
    if (Notification.permission === "granted") return window.__fleetnbNotify === false ? "alerts off" : "alerts on";
    return Notification.permission === "denied" ? "alerts: title only" : "enable alerts";
  };
  button.textContent = label();
  button.addEventListener("click", async () => {
    if ("Notification" in window && Notification.permission === "default") {
      await Notification.requestPermission();
    } else if ("Notification" in window && Notification.permission === "granted") {
      window.__fleetnbNotify = window.__fleetnbNotify === false;
    }
    button.textContent = label();
  });
  return button;
}

export default {
  render({ model, el }) {
    const root = h("div", "fleetnb-table");
    const bar = h("div", "fleetnb-toolbar");
    const filter = h("select", "fleetnb-filter");
    filter.append(new Option("all states", ""));
    for (const state of Object.keys(STATES)) filter.append(new Option(state, state));
    const count = h("span", "fleetnb-count");
    bar.append(h("span", "fleetnb-title", "fleet"), count, filter, alertsButton());
    const banner = h("div", "fleetnb-error");
    banner.setAttribute("role", "alert");
    const table = h("table");
    const headRow = h("tr");
    const tbody = h("tbody");
    table.append(h("thead"), tbody);
    table.tHead.append(headRow);
    const scroll = h("div", "fleetnb-scroll");
    scroll.append(table);
    root.append(bar, banner, scroll);
    el.append(root);

    const view = { key: null, dir: 1, trs: new Map(), details: new Map(), seen: new Map(), json: new Map() };
    for (const [key, label] of COLUMNS) {
      const th = h("th", "", label);
      th.dataset.key = key;
      th.addEventListener("click", () => {
        view.dir = view.key === key ? -view.dir : 1;
        view.key = key;
        for (const other of headRow.children) other.removeAttribute("aria-sort");
        th.setAttribute("aria-sort", view.dir > 0 ? "ascending" : "descending");
        arrange();
      });
      headRow.append(th);
    }

    function arrange() {
      const rows = [...model.get("rows")];
      if (view.key) {
        const k = view.key;
        rows.sort((a, b) => (a[k] < b[k] ? -view.dir : a[k] > b[k] ? view.dir : 0));
      }
      let shown = 0;
      for (const row of rows) {
        const tr = view.trs.get(row.id);
        tr.hidden = Boolean(filter.value) && row.state !== filter.value;
        shown += tr.hidden ? 0 : 1;
        tbody.append(tr);
        const detail = view.details.get(row.id);
        if (detail) { detail.hidden = tr.hidden; tbody.append(detail); }
      }
      count.textContent = `${shown} of ${rows.length} agents`;
    }

    function toggle(row) {
      const detail = view.details.get(row.id);
      if (detail) {
        detail.remove();
        view.details.delete(row.id);
        model.send({ type: "collapse", agent: row.id });
        return;
      }
      const tr = h("tr", "fleetnb-detail");
      const td = h("td");
      td.colSpan = COLUMNS.length;
      td.append(h("pre", "fleetnb-events", "loading events…"));
      tr.append(td);
      view.details.set(row.id, tr);
      model.send({ type: "expand", agent: row.id });
      showDetails();
      arrange();
    }

    function update() {
      const rows = model.get("rows");
      const ids = new Set(rows.map((row) => row.id));
      for (const [id, tr] of view.trs) {
        if (!ids.has(id)) { tr.remove(); view.trs.delete(id); view.details.get(id)?.remove(); view.details.delete(id); }
      }
      for (const row of rows) {
        const json = JSON.stringify(row);
        let tr = view.trs.get(row.id);
        if (!tr) {
          tr = h("tr", "fleetnb-row");
          tr.addEventListener("click", () => toggle(view.rows.get(tr.dataset.id)));
          view.trs.set(row.id, tr);
        }
        if (view.json.get(row.id) !== json) { fillRow(tr, row); view.json.set(row.id, json); }
        const before = view.seen.get(row.id);
        if (before !== undefined && before !== row.state && ALERT_STATES.has(row.state)) alertFor(tr, row);
        if (!ALERT_STATES.has(row.state)) delete tr.dataset.alert;
        view.seen.set(row.id, row.state);
      }
      view.rows = new Map(rows.map((row) => [row.id, row]));
      arrange();
    }

    function showDetails() {
      const details = model.get("details");
      for (const [id, tr] of view.details) {
        if (details[id]) tr.querySelector("pre").textContent = details[id].join("\n") || "no events yet";
      }
    }

    function showError() {
      const error = model.get("error");
      banner.textContent = error;
      banner.hidden = !error;
      root.classList.toggle("fleetnb-has-error", Boolean(error));
    }

    filter.addEventListener("change", arrange);
    model.on("change:rows", update);
    model.on("change:details", showDetails);
    model.on("change:error", showError);
    update();
    showError();
    return () => {
      model.off("change:rows", update);
      model.off("change:details", showDetails);
      model.off("change:error", showError);
      for (const id of view.details.keys()) {
        try { model.send({ type: "collapse", agent: id }); } catch (e) { /* the model is gone */ }
      }
    };
  },
};
