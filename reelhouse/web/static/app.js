// Library page: a filter select re-renders the grid at once (the form works without JS too).
"use strict";
document.querySelectorAll("form.filters select").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
