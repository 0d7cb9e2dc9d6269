// "Watch together": create a party on the file (POST /api/parties) and open its page.
"use strict";
document.querySelectorAll("button.together").forEach((button) => {
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const r = await fetch("/api/parties", {
        method: "POST", credentials: "same-origin", headers: window.reelhouse.csrfHeaders({ "content-type": "application/json" }),
        body: JSON.stringify({ media_file_id: Number(button.dataset.fileId) }),
      });
      const body = await r.json();
      if (!r.ok) throw new Error(body.detail || r.statusText);
      window.location.href = body.invite_path;
    } catch (err) {
      button.disabled = false;
      button.textContent = "Could not start a party: " + err.message;
    }
  });
});
