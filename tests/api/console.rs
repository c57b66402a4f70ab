//! The merchant console over HTTP: operator accounts, log in and out with a session
//! cookie (HttpOnly, Secure, SameSite=Strict), the CSRF token every form carries, a
//! form posted from another site refused, and the campaigns page creating a campaign
//! with the API's checks, a refused value shown beside its field.

use reqwest::{Method, StatusCode, header};
use serde_json::json;
use upline_tests::*;

pub(crate) const EMAIL: &str = "ops@shop.example";
pub(crate) const PASSWORD: &str = "a long operator password";

/// A client that does not follow redirects, so the test sees them.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

/// The value of `name="csrf"` in a page.
pub(crate) fn csrf(page: &str) -> String {
    let at = page.find(r#"name="csrf" value=""#).expect("a csrf field") + r#"name="csrf" value=""#.len();
    page[at..].split('"').next().unwrap_or_default().to_owned()
}

/// Creates the operator account and logs it in: the session cookie.
pub(crate) async fn operator_session(app: &TestApp) -> String {
    let body = json!({"email": EMAIL, "password": PASSWORD});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/operators").json(&body)).await.0, 201);
    log_in(app, PASSWORD).await.1
}

/// Logs in; returns the session cookie (`name=value`) and its attributes.
pub(crate) async fn log_in(app: &TestApp, password: &str) -> (StatusCode, String, String) {
    let response = client()
        .post(format!("{}/console/login", app.address))
        .form(&[("email", EMAIL), ("password", password)])
        .send()
        .await
        .expect("login");
    let status = response.status();
    let set = response.headers().get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let cookie = set.split(';').next().unwrap_or_default().to_owned();
    (status, cookie, set)
}

pub(crate) async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let response =
        client().get(format!("{}{path}", app.address)).header(header::COOKIE, cookie).send().await.expect("page");
    (response.status(), response.text().await.expect("body"))
}

pub(crate) async fn post(
    app: &TestApp,
    cookie: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String, String) {
    let response = client()
        .post(format!("{}{path}", app.address))
        .header(header::COOKIE, cookie)
        .form(form)
        .send()
        .await
        .expect("post");
    let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (response.status(), location, response.text().await.expect("body"))
}

#[tokio::test]
async fn an_operator_logs_in_creates_a_campaign_with_its_csrf_token_and_logs_out() {
    let app = spawn_app().await;
    let (status, _) = page(&app, "", "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "/ leads to the console");
    let script = client().get(format!("{}/static/app.js", app.address)).send().await.expect("script");
    assert_eq!(script.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert!(script.text().await.expect("body").contains("data-partial"));
    let response = client().get(format!("{}/console", app.address)).send().await.expect("console");
    assert_eq!(response.headers()[header::LOCATION], "/console/login", "no session: the login page");
    let (status, login) = page(&app, "", "/console/login").await;
    assert_eq!(status, StatusCode::OK);
    assert!(login.contains(r#"<label for="email">"#) && login.contains(r#"<label for="password">"#), "{login}");

    // Accounts are created with the operator API key.
    let body = json!({"email": "not an address", "password": PASSWORD});
    let (status, error) = send(app.operator(Method::POST, "/api/v1/operators").json(&body)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("email")), "{error}");
    let body = json!({"email": EMAIL, "password": PASSWORD});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/operators").json(&body)).await.0, 201);
    let (status, error) = send(app.operator(Method::POST, "/api/v1/operators").json(&body)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (409, Some("email")), "{error}");

    let (status, cookie, _) = log_in(&app, "a wrong password").await;
    assert_eq!((status, cookie.as_str()), (StatusCode::UNAUTHORIZED, ""));
    let (status, cookie, attributes) = log_in(&app, PASSWORD).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(flag), "{attributes}");
    }
    let (status, campaigns) = page(&app, &cookie, "/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(campaigns.contains(EMAIL) && campaigns.contains("No campaigns yet"), "{campaigns}");
    let token = csrf(&campaigns);

    // Without the token, or with another session's, nothing is created.
    let shop = [("name", "Shop"), ("currency", "EUR"), ("time-zone", "Europe/Amsterdam"), ("hold-days", "14")];
    let (status, _, refused) = post(&app, &cookie, "/console/campaigns", &shop).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(refused.contains("security token"), "{refused}");
    let forged = [&shop[..], &[("csrf", "0123")]].concat();
    assert_eq!(post(&app, &cookie, "/console/campaigns", &forged).await.0, StatusCode::FORBIDDEN);
    // A form posted from another site is refused before anything else.
    let response = client()
        .post(format!("{}/console/campaigns", app.address))
        .header(header::COOKIE, &cookie)
        .header("sec-fetch-site", "cross-site")
        .form(&[&shop[..], &[("csrf", token.as_str())]].concat())
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(send(app.operator(Method::GET, "/api/v1/campaigns")).await.1, json!([]));

    // A value the API refuses is shown beside its field, with what was entered.
    let mars = [("csrf", token.as_str()), ("name", "Shop"), ("currency", "EUR"), ("time-zone", "Mars/Olympus")];
    let (status, _, shown) = post(&app, &cookie, "/console/campaigns", &mars).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{shown}");
    assert!(shown.contains(r#"<span class="error" id="time-zone-error""#), "{shown}");
    assert!(shown.contains(r#"value="Mars/Olympus""#) && shown.contains(r#"aria-invalid="true""#), "{shown}");

    let (status, location, _) =
        post(&app, &cookie, "/console/campaigns", &[&shop[..], &[("csrf", token.as_str())]].concat()).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/console"));
    let (_, listed) = send(app.operator(Method::GET, "/api/v1/campaigns")).await;
    assert_eq!((listed[0]["name"].as_str(), listed[0]["hold-days"].as_i64()), (Some("Shop"), Some(14)), "{listed}");
    assert_eq!(listed[0]["time-zone"], "Europe/Amsterdam");
    assert!(page(&app, &cookie, "/console").await.1.contains(">Shop</a></td>"));

    // Logging out ends the session: its cookie leads to the login page again.
    let (status, location, _) = post(&app, &cookie, "/console/logout", &[("csrf", token.as_str())]).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/console/login"));
    let response =
        client().get(format!("{}/console", app.address)).header(header::COOKIE, &cookie).send().await.expect("page");
    assert_eq!(response.headers()[header::LOCATION], "/console/login");
}

#[tokio::test]
async fn a_plugin_is_switched_on_with_its_schema_form_and_a_sale_is_tried_on_the_campaign_page() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    assert_eq!(app.install(package("plugins/variable-tier")).await.status(), 201);
    let cookie = operator_session(&app).await;
    let path = format!("/console/campaigns/{campaign}");
    let (status, shown) = page(&app, &cookie, &path).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    // Every installed plugin has a form; variable tier's `max-tiers` is a number field.
    assert!(shown.contains(r#"<label for="variable-tier-max-tiers">"#), "{shown}");
    assert!(shown.contains(r#"name="cfg.max-tiers" type="number""#), "{shown}");
    let token = csrf(&shown);

    // Multi-tier off, variable tier on with a value its schema refuses: the error is
    // beside the field, and nothing changed.
    let off = [("csrf", token.as_str())];
    let (status, _, _) = post(&app, &cookie, &format!("{path}/plugins/multi-tier"), &off).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let invalid = [("csrf", token.as_str()), ("enabled", "true"), ("cfg.max-tiers", "0")];
    let (status, _, refused) = post(&app, &cookie, &format!("{path}/plugins/variable-tier"), &invalid).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let error = r#"<span class="error" id="variable-tier-max-tiers-error">"#;
    assert!(refused.contains(error), "{refused}");
    let (_, bound) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}/plugins"))).await;
    assert!(!bound.to_string().contains("variable-tier"), "{bound}");

    let valid = [("csrf", token.as_str()), ("enabled", "true"), ("cfg.max-tiers", "3")];
    let (status, location, _) = post(&app, &cookie, &format!("{path}/plugins/variable-tier"), &valid).await;
    assert_eq!((status, location), (StatusCode::SEE_OTHER, format!("{path}#plugin-variable-tier")));
    let (_, bound) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}/plugins"))).await;
    let variable = bound.as_array().expect("bindings").iter().find(|b| b["plugin"] == "variable-tier").cloned();
    assert_eq!(
        variable.map(|b| (b["enabled"].clone(), b["config"].clone())),
        Some((json!(true), json!({"max-tiers": 3})))
    );

    // Try a sale: each line with its plugin and explanation; nothing is stored.
    let affiliate = affiliate.to_string();
    let sale = [("csrf", token.as_str()), ("affiliate", affiliate.as_str()), ("total", "250.00")];
    let (status, _, tried) = post(&app, &cookie, &format!("{path}/try"), &sale).await;
    assert_eq!(status, StatusCode::OK, "{tried}");
    assert!(tried.contains("<td>25.00 EUR</td>") && tried.contains("<td>variable-tier@"), "{tried}");
    assert!(tried.contains("10% of 250.00 EUR"), "the explanation: {tried}");
    let bad = [("csrf", token.as_str()), ("affiliate", affiliate.as_str()), ("total", "lots")];
    let (status, _, refused) = post(&app, &cookie, &format!("{path}/try"), &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused.contains(r#"id="total-error""#), "{refused}");
    assert_eq!(send(app.operator(Method::GET, "/api/v1/commissions")).await.1, json!([]));
}

#[tokio::test]
async fn commissions_are_paged_and_approved_or_declined_one_by_one_or_in_bulk() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with_settings("multi-tier", "10", json!({"approval": "manual"})).await;
    for i in 0..51 {
        let body =
            json!({"campaign": campaign, "affiliate": affiliate, "order-id": format!("o-{i}"), "total": "100.00"});
        assert_eq!(send(app.operator(Method::POST, "/api/v1/conversions").json(&body)).await.0, 201);
    }
    let cookie = operator_session(&app).await;
    let first = format!("/console/commissions?campaign={campaign}&status=pending");
    let (status, shown) = page(&app, &cookie, &first).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown.matches(r#"<tr id="commission-"#).count(), 50, "a page of 50");
    let next = shown.split(r#"rel="next""#).next().and_then(|head| head.rsplit("href=\"").next()).expect("a next link");
    let next = next.split('"').next().unwrap_or_default().replace("&#38;", "&");
    assert_eq!(page(&app, &cookie, &next).await.1.matches(r#"<tr id="commission-"#).count(), 1, "{next}");
    let token = csrf(&shown);
    let ids: Vec<String> = shown
        .match_indices(r#"<tr id="commission-"#)
        .map(|(at, tag)| shown[at + tag.len()..].split('"').next().unwrap_or_default().to_owned())
        .collect();
    let back = format!("campaign={campaign}&status=pending");

    // One row's own button approves that commission.
    let approve = format!("approve:{}", ids[0]);
    let one = [("csrf", token.as_str()), ("back", back.as_str()), ("decision", approve.as_str())];
    let (status, location, _) = post(&app, &cookie, "/console/commissions/decide", &one).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, format!("/console/commissions?{back}").as_str()));
    // A bulk decline needs a reason; with one, every ticked commission is declined.
    let ticked = [("id", ids[1].as_str()), ("id", ids[2].as_str())];
    let without = [&[("csrf", token.as_str()), ("back", back.as_str()), ("decision", "decline")][..], &ticked].concat();
    let (status, _, refused) = post(&app, &cookie, "/console/commissions/decide", &without).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains(r#"id="decide-error""#) && refused.contains("reason"), "{refused}");
    let with = [&without[..], &[("reason", "test orders")]].concat();
    assert_eq!(post(&app, &cookie, "/console/commissions/decide", &with).await.0, StatusCode::SEE_OTHER);
    let (_, lines) = send(app.operator(Method::GET, &format!("/api/v1/commissions?campaign={campaign}&limit=3"))).await;
    let statuses: Vec<&str> = lines.as_array().expect("lines").iter().filter_map(|l| l["status"].as_str()).collect();
    assert_eq!(statuses, ["approved", "declined", "declined"]);
}

#[tokio::test]
async fn the_jobs_page_lists_each_job_with_its_state_and_runs_only_a_failed_one_again() {
    let app = spawn_app().await;
    app.campaign_with("multi-tier", "10").await;
    let cookie = operator_session(&app).await;
    let (_, listed) = send(app.operator(Method::GET, "/api/v1/jobs")).await;
    let jobs = listed.as_array().expect("jobs");
    assert!(!jobs.is_empty(), "a campaign has jobs: {listed}");
    let (status, shown) = page(&app, &cookie, "/console/jobs").await;
    assert_eq!(status, StatusCode::OK);
    for job in jobs {
        assert!(shown.contains(&format!(r#"<tr id="job-{}">"#, job["id"])), "{shown}");
        assert!(shown.contains(&format!("<td>{}</td>", job["kind"].as_str().unwrap_or_default())), "{shown}");
    }
    assert!(page(&app, &cookie, "/console/jobs?state=failed").await.1.contains("No jobs here."));
    // Only a failed job runs again: the service's 409 as a page.
    let token = csrf(&shown);
    let path = format!("/console/jobs/{}/run", jobs[0]["id"]);
    let (status, _, refused) = post(&app, &cookie, &path, &[("csrf", token.as_str())]).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
}
