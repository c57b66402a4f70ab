//! The affiliate portal over HTTP: log in, the dashboard in the browser's language
//! (German here) or the one chosen with the switch, its earnings by status, chart
//! and commissions, and logging out with the page's CSRF token.

use reqwest::{Method, StatusCode, header};
use serde_json::json;
use upline_tests::*;

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client")
}

async fn get(app: &TestApp, path: &str, cookie: &str, language: &str) -> (StatusCode, String, String) {
    let response = client()
        .get(format!("{}{path}", app.address))
        .header(header::COOKIE, cookie)
        .header(header::ACCEPT_LANGUAGE, language)
        .send()
        .await
        .expect("page");
    let set = response.headers().get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (response.status(), set, response.text().await.expect("body"))
}

async fn log_in(app: &TestApp, password: &str) -> (StatusCode, String, String) {
    let response = client()
        .post(format!("{}/portal/login", app.address))
        .header(header::ACCEPT_LANGUAGE, "de-DE,de;q=0.9,en;q=0.5")
        .form(&[("email", "affiliate@shop.example"), ("password", password)])
        .send()
        .await
        .expect("login");
    let status = response.status();
    let set = response.headers().get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, set.split(';').next().unwrap_or_default().to_owned(), response.text().await.expect("body"))
}

#[tokio::test]
async fn an_affiliate_sees_its_commission_on_the_dashboard_in_german_or_the_language_it_picks() {
    let app = spawn_app().await;
    let (campaign, affiliate) = app.campaign_with("multi-tier", "10").await;
    let sale = json!({"campaign": campaign, "affiliate": affiliate, "order-id": "o-1", "total": "12345.60"});
    assert_eq!(send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await.0, 201);

    let (status, _, _) = get(&app, "/portal", "", "de").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "no session: the login page");
    let (_, _, login) = get(&app, "/portal/login", "", "de-DE,de;q=0.9,en;q=0.5").await;
    assert!(login.contains(r#"<html lang="de">"#) && login.contains("Im Partnerportal anmelden"), "{login}");
    let (status, cookie, refused) = log_in(&app, "a wrong password").await;
    assert_eq!((status, cookie.as_str()), (StatusCode::UNAUTHORIZED, ""));
    assert!(refused.contains("E-Mail oder Passwort ist falsch."), "{refused}");
    let (status, cookie, _) = log_in(&app, "a long password").await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    let (status, _, german) = get(&app, "/portal", &cookie, "de-DE,de;q=0.9").await;
    assert_eq!(status, StatusCode::OK, "{german}");
    assert!(german.contains("<h1 id=\"dashboard\">Übersicht</h1>"), "{german}");
    assert!(german.contains("<td>Freigegeben</td><td>1</td><td>1.234,56 EUR</td>"), "{german}");
    assert!(german.contains(r#"<svg id="chart""#) && german.contains("Ihr Verdienst der letzten 12 Monate"));
    assert!(german.contains(&format!("/r/{campaign}/{affiliate}")), "the referral link: {german}");
    assert!(german.contains("Noch keine Stufen oder Auszeichnungen"), "the rewards' empty state");

    // The switch keeps Dutch for this browser, whatever it sends.
    let (status, language, _) = get(&app, "/portal/language/nl", &cookie, "de").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let both = format!("{cookie}; {}", language.split(';').next().unwrap_or_default());
    let (_, _, dutch) = get(&app, "/portal", &both, "de").await;
    assert!(dutch.contains(r#"<html lang="nl">"#) && dutch.contains("Overzicht"), "{dutch}");
    let (_, _, english) = get(&app, "/portal", &cookie, "fr-FR").await;
    assert!(english.contains("<td>Approved</td><td>1</td><td>1,234.56 EUR</td>"), "the default: {english}");

    // Logging out needs the page's token.
    let at = german.find(r#"name="csrf" value=""#).expect("a token") + r#"name="csrf" value=""#.len();
    let token = german[at..].split('"').next().unwrap_or_default();
    let logout = |form: Vec<(&'static str, String)>| {
        client().post(format!("{}/portal/logout", app.address)).header(header::COOKIE, &cookie).form(&form).send()
    };
    assert_eq!(logout(vec![]).await.expect("logout").status(), StatusCode::FORBIDDEN);
    assert_eq!(logout(vec![("csrf", token.to_owned())]).await.expect("logout").status(), StatusCode::SEE_OTHER);
    assert_eq!(get(&app, "/portal", &cookie, "de").await.0, StatusCode::SEE_OTHER, "the session ended");
}
