// Upline tracking snippet. On the merchant's pages:
//   <script src="https://<upline host>/t/snippet.js" data-campaign="1"
//           data-cookie-days="30" data-attribution="last-click"></script>
// It keeps the visitor's click token in a first-party cookie `upline_<campaign>`:
// from `?upline_click=<token>` (the redirect link) or by recording a click for
// `?aff=<affiliate id>`. With first-click attribution an existing cookie is kept.
// (A known bot's visit gets no token: 204.) `window.upline.click()` returns the
// token; on the order confirmation page
// `upline.sale({ "order-id": "A-1", total: "120.00", currency: "EUR" })` or
// `upline.action("signup", { "order-id": "lead-7" })` records the conversion with
// it (fields as in POST /t/conversions; a `coupon` field credits its affiliate).
(function () {
  var script = document.currentScript;
  var host = new URL(script.src).origin;
  var campaign = script.dataset.campaign;
  var days = parseInt(script.dataset.cookieDays || "30", 10);
  var firstClick = script.dataset.attribution === "first-click";
  var name = "upline_" + campaign;

  function read() {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : null;
  }
  function keep(token, maxAgeDays) {
    if (firstClick && read()) return;
    document.cookie = name + "=" + encodeURIComponent(token) + "; Max-Age=" + maxAgeDays * 86400 +
      "; Path=/; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
  }

  var params = new URLSearchParams(location.search);
  if (params.get("upline_click")) {
    keep(params.get("upline_click"), days);
  } else if (params.get("aff") && !(firstClick && read())) {
    fetch(host + "/t/clicks", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ campaign: Number(campaign), affiliate: Number(params.get("aff")),
                             "landing-url": location.href, referrer: document.referrer || null })
    }).then(function (r) { return r.status === 200 || r.status === 201 ? r.json() : null; })
      .then(function (click) { if (click) keep(click.token, click["max-age-days"]); });
  }
  function convert(fields) {
    var body = Object.assign({ campaign: Number(campaign) }, fields);
    if (read()) body.click = read();
    return fetch(host + "/t/conversions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      keepalive: true
    }).then(function (r) { return r.json(); });
  }
  window.upline = {
    click: read,
    sale: function (fields) { return convert(Object.assign({ "commission-type": "sale" }, fields)); },
    action: function (code, fields) {
      return convert(Object.assign({ "commission-type": "action:" + code }, fields));
    }
  };
})();
