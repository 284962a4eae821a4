// fleetnb approval queue. Commands, paths and diffs are agent data: textContent only.
function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function age(ts) {
  const s = Math.max(0, Math.floor(Date.now() / 1000 - ts));
  if (s < 60) return `${s}s ago`;
  return s < 3600 ? `${Math.floor(s / 60)}m ${s % 60}s ago` : `${Math.floor(s / 3600)}h ago`;
}

function buildRequest(req, send) {
  const box = h("div", `fleetnb-request fleetnb-risk-${req.risk}`);
  box.dataset.requestId = req.id;
  box.dataset.agent = req.agent;
  box.dataset.risk = req.risk;
  if (req.stale) box.classList.add("fleetnb-stale");
  const head = h("div", "fleetnb-request-head");
  const when = h("span", "fleetnb-age", req.requested_ts ? age(req.requested_ts) : "");
  when.dataset.ts = req.requested_ts;
  when.title = req.requested_at;
  head.append(
    h("span", "fleetnb-agent", req.agent), h("span", "fleetnb-tool", req.tool),
    h("span", `fleetnb-risk fleetnb-risk-${req.risk}`, req.risk || "?"), when,
  );
  box.append(head);
  if (req.command) box.append(h("pre", "fleetnb-command", req.command));
  if (req.path) box.append(h("div", "fleetnb-path", req.path));
  if (req.body) box.append(h("pre", `fleetnb-body fleetnb-body-${req.body_kind}`, req.body));
  const why = [req.reason, req.rule && `rule: ${req.rule}`, ...req.risk_reasons].filter(Boolean);
  if (why.length) box.append(h("div", "fleetnb-why", why.join(" · ")));
  box.append(buttons(req, send));
  const error = h("div", "fleetnb-request-error", req.error);
  error.setAttribute("role", "alert");
  error.hidden = !req.error;
  box.append(error);
  return box;
}

function buttons(req, send) {
  const area = h("div", "fleetnb-actions");
  if (req.stale) {
    const dismiss = h("button", "fleetnb-dismiss", "Dismiss");
    dismiss.addEventListener("click", () => send({ type: "dismiss", id: req.id }));
    area.append(dismiss);
    return area;
  }
  const approve = h("button", "fleetnb-approve", "Approve");
  const reason = h("input", "fleetnb-deny-reason");
  reason.placeholder = "reason (optional)";
  const deny = h("button", "fleetnb-deny", "Deny");
  const busy = () => { approve.disabled = deny.disabled = true; setTimeout(() => { approve.disabled = deny.disabled = false; }, 5000); };
  approve.addEventListener("click", () => { busy(); send({ type: "approve", id: req.id }); });
  deny.addEventListener("click", () => { busy(); send({ type: "deny", id: req.id, reason: reason.value }); });
  reason.addEventListener("keydown", (event) => { if (event.key === "Enter") deny.click(); });
  area.append(approve, deny, reason);
  return area;
}

export default {
  render({ model, el }) {
    const root = h("div", "fleetnb-queue");
    const bar = h("div", "fleetnb-toolbar");
    const title = h("span", "fleetnb-title");
    const all = h("button", "fleetnb-approve-all", "Approve all low-risk");
    const notice = h("span", "fleetnb-notice");
    bar.append(title, all, notice);
    const banner = h("div", "fleetnb-error");
    banner.setAttribute("role", "alert");
    const list = h("div", "fleetnb-requests");
    root.append(bar, banner, list);
    el.append(root);
    const send = (msg) => model.send(msg);
    all.addEventListener("click", () => send({ type: "approve_all", max_risk: "low" }));
    const boxes = new Map(); // id -> { box, json }

    function update() {
      const requests = model.get("requests");
      const ids = new Set(requests.map((req) => req.id));
      for (const [id, entry] of boxes) if (!ids.has(id)) { entry.box.remove(); boxes.delete(id); }
      for (const req of requests) {
        const json = JSON.stringify(req);
        const entry = boxes.get(req.id);
        if (entry && entry.json === json) { list.append(entry.box); continue; }
        const box = buildRequest(req, send);
        const typed = entry?.box.querySelector(".fleetnb-deny-reason");
        if (typed && box.querySelector(".fleetnb-deny-reason")) box.querySelector(".fleetnb-deny-reason").value = typed.value;
        if (entry) entry.box.replaceWith(box);
        boxes.set(req.id, { box, json });
        list.append(box);
      }
      const waiting = requests.filter((req) => !req.stale).length;
      title.textContent = waiting ? `${waiting} pending approval${waiting === 1 ? "" : "s"}` : "no pending approvals";
      all.disabled = !waiting;
    }

    function showErrors() {
      const errors = model.get("errors");
      for (const [id, entry] of boxes) {
        const node = entry.box.querySelector(".fleetnb-request-error");
        node.textContent = errors[id] || "";
        node.hidden = !errors[id];
        if (errors[id]) entry.box.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      }
    }

    function showBanner() {
      banner.textContent = model.get("error");
      banner.hidden = !model.get("error");
      notice.textContent = model.get("notice");
    }

    const ticker = setInterval(() => {
      for (const node of root.querySelectorAll(".fleetnb-age")) {
        if (Number(node.dataset.ts)) node.textContent = age(Number(node.dataset.ts));
      }
    }, 1000);
    const onRequests = () => { update(); showErrors(); };
    model.on("change:requests", onRequests);
    model.on("change:errors", showErrors);
    model.on("change:error", showBanner);
    model.on("change:notice", showBanner);
    onRequests();
    showBanner();
    return () => {
      clearInterval(ticker);
      model.off("change:requests", onRequests);
      model.off("change:errors", showErrors);
      model.off("change:error", showBanner);
      model.off("change:notice", showBanner);
    };
  },
};
