//! The merchant console and the affiliate portal in a real headless Chromium, driven
//! through chromedriver (WebDriver, with fantoccini): Debian's `chromium` and
//! `chromium-driver` (`cargo xtask test` and `.ci/run` install them). Each step
//! saves a screenshot under `target/screenshots/`.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use reqwest::Method;
use serde_json::json;
use upline_tests::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn chromedriver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("address").port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| panic!("{CHROMEDRIVER}: {err} (apt-get install chromium chromium-driver)"));
    // Stopped when dropped, also if it never answers.
    let driver = Driver { child, url: format!("http://127.0.0.1:{port}") };
    for _ in 0..100 {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok_and(|r| r.status().is_success()) {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

/// A headless Chromium whose preferred language is `language` (e.g. `de-DE,de`).
async fn browser(driver: &Driver, language: &str) -> Client {
    let first = language.split(',').next().unwrap_or("en");
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", format!("--lang={first}")],
            "prefs": {"intl.accept_languages": language}
        }
    });
    let capabilities = capabilities.as_object().cloned().unwrap_or_default();
    ClientBuilder::new(HttpConnector::new()).capabilities(capabilities).connect(&driver.url).await.expect("a session")
}

/// Saves what the browser shows, scrolled to `css`, as `target/screenshots/<name>.png`.
async fn screenshot(browser: &Client, name: &str, css: &str) {
    let scroll = format!("document.querySelector({css:?}).scrollIntoView({{block: 'center'}})");
    browser.execute(&scroll, vec![]).await.expect("scrolled");
    let dir = workspace_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    let png = browser.screenshot().await.expect("a screenshot");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
}

async fn text(browser: &Client, css: &str) -> String {
    browser.find(Locator::Css(css)).await.expect(css).text().await.expect("text")
}

/// Types `value` into the field `css` (after clearing it).
async fn fill(browser: &Client, css: &str, value: &str) {
    let field = browser.find(Locator::Css(css)).await.expect(css);
    field.clear().await.expect("cleared");
    field.send_keys(value).await.expect("typed");
}

async fn click(browser: &Client, css: &str) {
    browser.find(Locator::Css(css)).await.expect(css).click().await.expect("clicked");
}

/// Clicks `css`, a button of a form that updates only part of the page (the
/// console's script), and waits until the text of `part` contains `expected`; the
/// page itself stays.
async fn update(browser: &Client, css: &str, part: &str, expected: &str) -> String {
    let page = browser.find(Locator::Css("html")).await.expect("a page");
    click(browser, css).await;
    for _ in 0..200 {
        if let Ok(found) = browser.find(Locator::Css(part)).await {
            let shown = found.text().await.unwrap_or_default();
            if shown.contains(expected) {
                assert!(page.tag_name().await.is_ok(), "the page was reloaded, not updated in part");
                return shown;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{part} does not say {expected:?} after clicking {css}");
}

/// Clicks `css` (a submit button or a link) and waits for the next page.
async fn submit(browser: &Client, css: &str) {
    let page = browser.find(Locator::Css("html")).await.expect("a page");
    click(browser, css).await;
    for _ in 0..200 {
        // The old page's element goes stale once the next page is there.
        if page.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no new page after clicking {css}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sets_up_a_campaign_and_approves_a_commission_that_the_affiliate_sees_in_german() {
    let app = spawn_app().await;
    assert_eq!(app.install(package("plugins/variable-tier")).await.status(), 201);
    let operator = json!({"email": "ops@shop.example", "password": "a long operator password"});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/operators").json(&operator)).await.0, 201);
    let affiliate = json!({"name": "Anna", "email": "anna@shop.example", "password": "a long password"});
    let (_, affiliate) = send(app.operator(Method::POST, "/api/v1/affiliates").json(&affiliate)).await;
    let affiliate = affiliate["id"].as_i64().expect("affiliate id");
    let driver = chromedriver().await;
    let ops = browser(&driver, "en-US,en").await;
    let url = |path: &str| format!("{}{path}", app.address);

    // Log in.
    ops.goto(&url("/")).await.expect("console");
    fill(&ops, "#email", "ops@shop.example").await;
    fill(&ops, "#password", "a long operator password").await;
    submit(&ops, "#login button[type=submit]").await;
    assert_eq!(text(&ops, "h1").await, "Campaigns");

    // A form without its CSRF token is refused, and nothing is created.
    fill(&ops, "#name", "Forged").await;
    ops.execute("document.querySelector('#new-campaign input[name=csrf]').remove()", vec![]).await.expect("js");
    submit(&ops, "#new-campaign button[type=submit]").await;
    assert_eq!(text(&ops, "h1").await, "403 Forbidden");
    screenshot(&ops, "console-csrf-refused", "h1").await;
    ops.goto(&url("/console")).await.expect("campaigns");
    assert!(text(&ops, "main").await.contains("No campaigns yet"));

    // Create a campaign whose commissions wait for an operator.
    fill(&ops, "#name", "Shop").await;
    fill(&ops, "#time-zone", "Europe/Berlin").await;
    ops.find(Locator::Css("#approval option[value=manual]")).await.expect("manual").click().await.expect("chosen");
    screenshot(&ops, "console-campaigns", "#new-campaign").await;
    submit(&ops, "#new-campaign button[type=submit]").await;
    submit(&ops, "td a").await;
    assert_eq!(text(&ops, "h1").await, "Shop");
    let (_, campaigns) = send(app.operator(Method::GET, "/api/v1/campaigns")).await;
    let campaign = campaigns[0]["id"].as_i64().expect("campaign");
    let group = campaigns[0]["groups"][0]["id"].as_i64().expect("group");

    // The default group pays 10 % at tier 1.
    fill(&ops, &format!("#rates-{group}-1-value-1"), "10").await;
    submit(&ops, &format!("#rates-{group}-1 button[type=submit]")).await;
    let (_, stored) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}"))).await;
    assert_eq!(stored["groups"][0]["rates"][0]["tiers"], json!([{"tier": 1, "rule": {"percent": "10"}}]));
    screenshot(&ops, "console-groups", "#groups").await;

    // Switch variable tier on with an invalid value: the error is beside the field.
    click(&ops, "#variable-tier-enabled").await;
    fill(&ops, "#variable-tier-max-tiers", "0").await;
    submit(&ops, "#variable-tier-form button[type=submit]").await;
    let error = text(&ops, "#variable-tier-max-tiers-error").await;
    assert!(error.contains("less than the minimum of 1"), "{error}");
    screenshot(&ops, "console-plugin-config-error", "#variable-tier-max-tiers").await;
    fill(&ops, "#variable-tier-max-tiers", "3").await;
    submit(&ops, "#variable-tier-form button[type=submit]").await;
    assert!(text(&ops, "#plugin-variable-tier-title").await.contains("switched on"));

    // Try a sale: each line with its plugin and explanation.
    fill(&ops, "#affiliate", &affiliate.to_string()).await;
    fill(&ops, "#total", "250.00").await;
    let tried = update(&ops, "#try-sale button[type=submit]", "#tried", "25.00 EUR").await;
    assert!(tried.contains("variable-tier@0.2.0"), "{tried}");
    screenshot(&ops, "console-try-a-sale", "#tried").await;

    // The shop reports a sale; the operator approves its commission.
    let sale = json!({"campaign": campaign, "affiliate": affiliate, "order-id": "A-1", "total": "400.00"});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await.0, 201);
    submit(&ops, "nav a[href^='/console/commissions']").await;
    let pending = text(&ops, "#decide tbody").await;
    assert!(pending.contains("40.00 EUR") && pending.contains("pending"), "{pending}");
    screenshot(&ops, "console-commissions", "h1").await;
    update(&ops, "#decide button[value^='approve:']", "main", "No commissions here").await;

    // The affiliate tree and the installed plugins, from the menu.
    submit(&ops, "nav a[href='/console/affiliates']").await;
    assert!(text(&ops, &format!("#affiliate-{affiliate}")).await.contains("anna@shop.example"));
    screenshot(&ops, "console-affiliates", "h1").await;
    submit(&ops, "nav a[href='/console/plugins']").await;
    assert!(text(&ops, "#plugin-variable-tier").await.contains("active"));
    screenshot(&ops, "console-plugins", "h1").await;
    ops.close().await.expect("closed");

    // The affiliate, whose browser prefers German, sees it approved.
    let anna = browser(&driver, "de-DE,de").await;
    anna.goto(&url("/portal")).await.expect("portal");
    assert_eq!(text(&anna, "h1").await, "Im Partnerportal anmelden");
    fill(&anna, "#email", "anna@shop.example").await;
    fill(&anna, "#password", "a long password").await;
    submit(&anna, "#login button[type=submit]").await;
    assert_eq!(text(&anna, "h1").await, "Übersicht");
    let lang = anna.find(Locator::Css("html")).await.expect("html").attr("lang").await.expect("lang");
    assert_eq!(lang.as_deref(), Some("de"));
    let earnings = text(&anna, "#earnings").await;
    assert!(earnings.contains("Freigegeben") && earnings.contains("40,00 EUR"), "{earnings}");
    assert!(text(&anna, "#commissions").await.contains("40,00 EUR"));
    screenshot(&anna, "portal-dashboard-de", "h1").await;
    anna.close().await.expect("closed");
}
