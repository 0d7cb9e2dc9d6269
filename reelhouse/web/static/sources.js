// Sources settings: add / edit / remove sources, test a connection, run a scan with
// live progress. Everything goes through the JSON API with the session cookie.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const editor = $("source-editor");
  const form = $("source-form");
  const formError = $("form-error");

  const api = window.reelhouse.api;

  // -- the add / edit form ---------------------------------------------------------
  function showKind(kind) {
    document.querySelectorAll("#source-form [data-kind]").forEach((el) => {
      el.hidden = el.dataset.kind !== kind;
    });
  }

  function fillTlsHints() {
    const tls = $("src-tls").value;
    $("src-port").placeholder = tls === "implicit" ? "990" : "21";
    $("verify-row").hidden = tls === "none";
    $("tls-cert-row").hidden = tls === "none";
  }

  function openEditor(source) {
    form.reset();
    formError.hidden = true;
    const editing = Boolean(source);
    $("editor-title").textContent = editing ? "Edit " + source.name : "Add a source";
    $("src-id").value = editing ? String(source.id) : "";
    $("src-kind").disabled = editing; // the kind of a source cannot change
    $("clear-password-row").hidden = !(editing && source.has_password);
    $("src-password").placeholder = editing && source.has_password
      ? "unchanged (stored)" : "none (anonymous)";
    if (editing) {
      $("src-name").value = source.name;
      $("src-kind").value = source.kind;
      if (source.kind === "local") {
        $("src-local-path").value = source.path || "";
      } else {
        $("src-host").value = source.host || "";
        $("src-port").value = source.port || "";
        $("src-username").value = source.username || "";
        $("src-tls").value = source.tls;
        $("src-verify").checked = source.verify_tls;
        $("src-root").value = source.path || "";
      }
    }
    showKind($("src-kind").value);
    fillTlsHints();
    editor.hidden = false;
    editor.scrollIntoView({ block: "nearest" });
    $("src-name").focus();
  }

  function formBody(editing) {
    const kind = $("src-kind").value;
    const body = { name: $("src-name").value.trim() };
    if (!editing) body.kind = kind;
    if (kind === "local") {
      body.path = $("src-local-path").value.trim();
      return body;
    }
    body.host = $("src-host").value.trim();
    const port = $("src-port").value.trim();
    if (port) body.port = Number(port);
    else if (!editing) body.port = null;
    body.username = $("src-username").value.trim();
    const password = $("src-password").value;
    if (password) body.password = password;
    else if (editing && $("src-clear-password").checked) body.password = "";
    body.tls = $("src-tls").value;
    body.verify_tls = $("src-verify").checked;
    const cert = $("src-tls-cert").value.trim();
    if (cert) body.tls_cert = cert;
    body.path = $("src-root").value.trim();
    return body;
  }

  if (form) {
    $("add-source").addEventListener("click", () => openEditor(null));
    $("cancel-source").addEventListener("click", () => { editor.hidden = true; });
    $("src-kind").addEventListener("change", () => showKind($("src-kind").value));
    $("src-tls").addEventListener("change", fillTlsHints);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const id = $("src-id").value;
      const save = $("save-source");
      formError.hidden = true;
      save.disabled = true;
      try {
        if (id) await api("PATCH", "/api/sources/" + id, formBody(true));
        else await api("POST", "/api/sources", formBody(false));
        location.reload();
      } catch (err) {
        formError.textContent = err.message;
        formError.hidden = false;
        save.disabled = false;
      }
    });
  }

  // -- per-source actions ----------------------------------------------------------
  function setStatus(row, text, tone) {
    const status = row.querySelector(".status");
    status.classList.remove("ok", "bad");
    if (tone) status.classList.add(tone);
    status.textContent = text;
    status.hidden = false;
    return status;
  }

  function progressLine(job) {
    const p = job.progress || {};
    const n = (key) => (p[key] || 0);
    const count = (key, one, many) => n(key) + " " + (n(key) === 1 ? one : many);
    return [
      count("folders", "folder", "folders"),
      count("files_seen", "file seen", "files seen"),
      n("added") + " added",
      n("updated") + " updated",
      n("moved") + " moved",
      n("missing") + " missing",
      n("probed") + " probed",
      n("matched") + " matched",
      count("errors", "error", "errors"),
    ].join(" · ");
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function scan(row, id, button) {
    let job = await api("POST", "/api/sources/" + id + "/scan");
    setStatus(row, "Scan " + job.state + "…");
    while (job.state === "queued" || job.state === "running") {
      const status = setStatus(row, "Scan " + job.state + " — " + progressLine(job));
      status.dataset.state = job.state;
      await sleep(500);
      job = await api("GET", "/api/jobs/" + job.id);
    }
    if (job.state === "done") {
      row.querySelector(".scan-info").textContent = "Last scan: just now";
      const lastError = row.querySelector(".last-error");
      if (lastError && !job.error) lastError.remove();
      const status = setStatus(row, "", job.error ? "bad" : "ok");
      status.dataset.state = "done";
      status.append("Scan done — " + progressLine(job) + ". ");
      if (job.error) status.append("Problems: " + job.error + ". ");
      const link = document.createElement("a");
      link.href = "/";
      link.textContent = "Back to the library →";
      status.append(link);
    } else if (job.state === "partial") {
      // some folders could not be listed: their files were neither added nor removed
      row.querySelector(".scan-info").textContent = "Last scan: just now (partial)";
      const status = setStatus(row, "", "bad");
      status.dataset.state = "partial";
      status.append("Scan partial — " + progressLine(job) + ". " + (job.error || "") + ".");
    } else {
      const status = setStatus(row, "Scan failed: " + (job.error || job.message || "unknown error"), "bad");
      status.dataset.state = "failed";
    }
    button.disabled = false;
  }

  // -- health: up / degraded / down, latency and pool use (GET /api/sources/{id}/health)
  async function showHealth(row, id) {
    const badge = row.querySelector(".health");
    try {
      const h = await api("GET", "/api/sources/" + id + "/health");
      badge.className = "health health-" + h.state;
      let text = "● " + h.state;
      if (h.latency_ms != null) text += " · " + Math.round(h.latency_ms) + " ms";
      if (h.pool) text += " · " + h.pool.in_use + "/" + h.pool.size + " connections busy";
      badge.textContent = text;
      badge.title = h.error || "";
      badge.hidden = false;
    } catch (err) {
      badge.hidden = true;
    }
  }

  document.querySelectorAll(".source").forEach((row) => {
    const id = row.dataset.id;
    showHealth(row, id);
    row.querySelectorAll("[data-action]").forEach((button) => {
      button.addEventListener("click", async () => {
        const action = button.dataset.action;
        try {
          if (action === "edit") {
            openEditor(await api("GET", "/api/sources/" + id));
          } else if (action === "test") {
            button.disabled = true;
            setStatus(row, "Connecting…");
            const r = await api("POST", "/api/sources/" + id + "/test");
            if (r.ok) {
              const ms = r.latency_ms == null ? "" : " (" + Math.round(r.latency_ms) + " ms)";
              setStatus(row, "✓ OK: " + r.message + ms, "ok");
            } else {
              setStatus(row, "✗ " + r.message, "bad");
            }
            button.disabled = false;
          } else if (action === "scan") {
            button.disabled = true;
            await scan(row, id, button);
          } else if (action === "remove") {
            const name = row.dataset.name;
            if (!confirm("Remove the source “" + name + "”? Its titles leave the library (the files themselves stay where they are).")) return;
            button.disabled = true;
            await api("DELETE", "/api/sources/" + id);
            row.remove();
            if (!document.querySelector(".source")) location.reload();
          }
        } catch (err) {
          setStatus(row, "✗ " + err.message, "bad");
          button.disabled = false;
        }
      });
    });
  });
})();
