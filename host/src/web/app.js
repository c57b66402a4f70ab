// The console's one script, and all it does: a form marked `data-partial="<css>"` is
// posted in the background and only the part of the answer `<css>` selects replaces
// the same part of the page (a tried sale's lines, a page of commissions after a
// decision), without reloading the page. Without this script, or when the answer has
// no such part, the form works as any form does.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  const part = form.dataset.partial;
  if (!part || !window.fetch || !window.DOMParser) return;
  event.preventDefault();
  const body = new URLSearchParams(new FormData(form, event.submitter));
  let response;
  try {
    response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
  } catch (_) {
    form.submit();
    return;
  }
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.querySelector(part);
  const shown = document.querySelector(part);
  if (fresh && shown) {
    shown.replaceWith(fresh);
    if (response.redirected) history.replaceState(null, "", response.url);
    const focus = fresh.querySelector("[aria-invalid=true], [role=alert], [aria-live]") || fresh;
    if (!focus.hasAttribute("tabindex")) focus.setAttribute("tabindex", "-1");
    focus.focus();
  } else {
    document.open();
    document.write(page.documentElement.outerHTML);
    document.close();
  }
});
