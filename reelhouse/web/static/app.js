// Library page: a filter picked from a select's list re-renders the grid at once (the
// form works without JS too). Arrow keys (and letters, Home, End…) on a closed select
// change its value one option at a time: the page submitted at the first press and the
// new page put the focus back at its start, so a keyboard user could not reach the
// third option (WCAG 2.2 SC 3.2.2, On Input). A value chosen with keys is sent with Enter
// (or the Search button); after a submit from a select, the new page focuses it again.
// Back and Forward show each page's fields as its grid is filtered; a new search drops
// the A-Z letter.
"use strict";
(() => {
  const FOCUS = "reelhouse.filterFocus";
  const changesValue = (e) => !e.altKey && !e.ctrlKey && !e.metaKey
    && (/^(Arrow|Page)|^(Home|End)$/.test(e.key) || (e.key.length === 1 && e.key !== " "));
  const submit = (select) => {
    try { sessionStorage.setItem(FOCUS, select.name); } catch (_) { /* storage off: no focus back */ }
    select.form.requestSubmit();
  };
  document.querySelectorAll("form.filters select").forEach((select) => {
    let keyed = false;
    select.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        submit(select);
      } else {
        keyed = changesValue(e);
      }
    });
    select.addEventListener("pointerdown", () => { keyed = false; });
    select.addEventListener("change", () => {
      if (!keyed) submit(select);
      keyed = false;
    });
  });
  // Back and Forward show a page as it was left (the back/forward cache), or refill its
  // fields with what was typed: the grid of one filter under the fields of another (the
  // "2160p" just chosen above all the titles). The fields go back to what the page was
  // made with, the filters of its grid.
  // Only then: a first load's pageshow waits for the posters, and might wipe what was typed.
  window.addEventListener("pageshow", (e) => {
    const nav = performance.getEntriesByType("navigation")[0];
    if (!e.persisted && !(nav && nav.type === "back_forward")) return;
    document.querySelectorAll("form.filters").forEach((form) => form.reset());
  });
  // A new search looks through the whole library, not within the letter jumped to: "river"
  // sent from the K page said "Nothing matches" (the letter is a hidden field).
  document.querySelectorAll("form.filters").forEach((form) => {
    form.addEventListener("submit", () => {
      const q = form.elements.namedItem("q"), letter = form.elements.namedItem("letter");
      if (q && letter && q.value.trim() && q.value.trim() !== q.defaultValue.trim()) letter.value = "";
    });
  });
  let name = null;
  try {
    name = sessionStorage.getItem(FOCUS);
    sessionStorage.removeItem(FOCUS);
  } catch (_) { /* storage off */ }
  const again = name && [...document.querySelectorAll("form.filters select")].find((s) => s.name === name);
  if (again) again.focus();
})();
