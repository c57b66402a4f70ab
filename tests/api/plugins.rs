//! Installing and managing plugins over HTTP, and the plugin guide's example end to end.

use reqwest::Method;
use serde_json::{Value, json};
use upline_host::plugin::{Hook, PluginEngine, PluginToml};
use upline_tests::*;

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error body");
    (status, body["error"].clone())
}

#[tokio::test]
async fn the_guide_example_is_built_installed_and_listed() {
    let app = spawn_app().await;

    let response = app.install(package("plugins/sale-bonus")).await;

    assert_eq!(response.status().as_u16(), 201);
    let installed: Value = response.json().await.expect("json");
    assert_eq!(installed["id"], "sale-bonus");
    assert_eq!(installed["hooks"], json!(["bonus-rules"]));
    assert_eq!(installed["active"], true);
    let list: Value = app
        .client
        .get(format!("{}/api/v1/plugins", app.address))
        .bearer_auth(&app.operator_key)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["digest"], installed["digest"]);
}

#[test]
fn the_guide_example_runs_in_the_local_runner() {
    let input =
        std::fs::read_to_string(workspace_root().join("plugins/sale-bonus/examples/big-sale.json")).expect("example");
    let engine = PluginEngine::new().expect("engine");

    let report =
        upline_host::runner::run(&engine, package("plugins/sale-bonus"), Some(Hook::BonusRules), &input).expect("run");

    assert_eq!(report["value"][0]["bonus"]["amount"], json!({"amount": "25.00", "currency": "EUR"}));
    assert_eq!(report["value"][0]["bonus"]["affiliate"], 4);
    assert!(report["usage"]["fuel"].as_u64().unwrap_or(0) > 0, "{report}");
    assert!(report["usage"]["peak_memory"].as_u64().unwrap_or(0) > 0, "{report}");
    assert_eq!(report["logs"][0]["level"], "info");
}

#[test]
fn the_runner_names_a_bad_input_field() {
    let engine = PluginEngine::new().expect("engine");
    let input = r#"{"config": {"minimum": "1", "bonus": "1"}, "input": {"now": "yesterday"}}"#;
    let err = upline_host::runner::run(&engine, package("plugins/sale-bonus"), Some(Hook::BonusRules), input)
        .expect_err("bad");
    assert!(matches!(err, upline_host::Error::InvalidInput { ref field, .. } if field == "input.now"), "{err}");
}

#[test]
fn the_runner_says_when_the_plugin_lacks_the_hook_or_the_grant() {
    let engine = PluginEngine::new().expect("engine");
    let input =
        std::fs::read_to_string(workspace_root().join("plugins/sale-bonus/examples/big-sale.json")).expect("example");
    let run = |hook, input: &str| upline_host::runner::run(&engine, package("plugins/sale-bonus"), hook, input);

    let err = run(Some(Hook::Approve), &input).expect_err("no approve hook");
    assert_eq!(err.to_string(), "invalid input: `hook`: sale-bonus has no `approve` hook; it implements bonus-rules");
    let granted = input.replacen('{', r#"{"grants": ["stats"],"#, 1);
    let err = run(None, &granted).expect_err("a grant not asked for");
    assert_eq!(
        err.to_string(),
        "invalid input: `grants[0]`: sale-bonus does not ask for `stats` (`capabilities` in its plugin.toml), so \
         the server would refuse this grant"
    );
    // Without --hook, the plugin's only hook runs.
    assert!(run(None, &input).is_ok());
}

#[tokio::test]
async fn installing_needs_the_operator_key() {
    let app = spawn_app().await;
    for key in [None, Some("wrong-key")] {
        let mut request = app.client.post(format!("{}/api/v1/plugins", app.address)).body(hostile());
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let (status, error) = error_of(request.send().await.expect("request")).await;
        assert_eq!((status, error["code"].as_str()), (401, Some("unauthorized")), "{key:?}");
    }
}

#[tokio::test]
async fn bad_packages_get_a_precise_error() {
    let app = spawn_app().await;
    let cases =
        [(b"garbage".to_vec(), "invalid_wasm"), (hostile_module(), "not_a_component"), (Vec::new(), "invalid_wasm")];
    for (bytes, code) in cases {
        let (status, error) = error_of(app.install(bytes).await).await;
        assert_eq!((status, error["code"].as_str()), (422, Some(code)), "{error}");
    }
}

#[tokio::test]
async fn plugin_management_errors_name_what_is_wrong() {
    let app = spawn_app().await;
    app.install(hostile()).await;
    let url = |path: &str| format!("{}/api/v1/plugins/{path}", app.address);

    let response =
        app.client.post(url("nope/activate")).bearer_auth(&app.operator_key).json(&json!({"version": "1.0.0"}));
    let (status, error) = error_of(response.send().await.expect("request")).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("plugin_not_found")));

    let response = app.client.post(url("hostile/activate")).bearer_auth(&app.operator_key).json(&json!({"version": 3}));
    let (status, error) = error_of(response.send().await.expect("request")).await;
    assert_eq!((status, error["field"].as_str()), (400, Some("version")), "{error}");

    let response = app.client.put(url("hostile/limits")).bearer_auth(&app.operator_key).json(&json!({"fuel": 0}));
    let (status, error) = error_of(response.send().await.expect("request")).await;
    assert_eq!((status, error["field"].as_str()), (422, Some("limits.fuel")), "{error}");

    let response = app.client.put(url("hostile/limits")).bearer_auth(&app.operator_key).json(&json!({"fuel": 1000}));
    assert_eq!(response.send().await.expect("request").status().as_u16(), 204);
}

#[tokio::test]
async fn hosts_on_one_database_run_the_same_plugins_versions_and_limits() {
    let first = spawn_app().await;
    let (campaign, affiliate) = first.campaign_with("multi-tier", "10").await;
    let second = spawn_host_of(&first).await;

    let (status, plugins) = send(second.operator(Method::GET, "/api/v1/plugins")).await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = plugins.as_array().expect("list").iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(ids, ["multi-tier"], "installed from the database at start");
    let sale = json!({"campaign": campaign, "affiliate": affiliate, "order-id": "on-second", "total": "50.00"});
    let (status, recorded) = send(second.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    assert_eq!((status, recorded["conversion"]["status"].as_str()), (201, Some("processed")), "{recorded}");
    assert_eq!(recorded["commissions"][0]["amount"]["amount"], "5.00");

    // Limits set on one host apply on the other once it sees the change.
    let limits = json!({"fuel": 1_000_000});
    let (status, _) = send(first.operator(Method::PUT, "/api/v1/plugins/multi-tier/limits").json(&limits)).await;
    assert_eq!(status, 204);
    tokio::time::sleep(upline_host::service::config::RECHECK).await;
    let sale = json!({"campaign": campaign, "affiliate": affiliate, "order-id": "after-limits", "total": "50.00"});
    send(second.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    let (_, plugins) = send(second.operator(Method::GET, "/api/v1/plugins")).await;
    assert_eq!(plugins[0]["limits"]["fuel"], 1_000_000, "{plugins}");
}

#[tokio::test]
async fn an_installed_version_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let installed: Value = app.install(hostile()).await.json().await.expect("json");

    let about = PluginToml { description: "changed, same version".into(), ..hostile_toml() };
    for (bytes, says) in [(hostile(), "same contents"), (hostile_with(about, "0.1.0"), "needs a new version")] {
        let (status, error) = error_of(app.install(bytes).await).await;
        assert_eq!((status, error["field"].as_str()), (409, Some("version")), "{error}");
        assert!(error["message"].as_str().is_some_and(|m| m.contains(says)), "{error}");
    }
    let (_, list) = send(app.operator(Method::GET, "/api/v1/plugins")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["digest"], installed["digest"]);

    // A host started on the database sees only what the database holds.
    let other = spawn_host_of(&app).await;
    let (_, list) = send(other.operator(Method::GET, "/api/v1/plugins")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["digest"], installed["digest"]);
}

#[tokio::test]
async fn a_plugin_s_limits_survive_activating_another_version() {
    let app = spawn_app().await;
    app.install(hostile()).await;
    let limits = json!({"fuel": 1_000_000, "timeout-ms": 50});
    let (status, _) = send(app.operator(Method::PUT, "/api/v1/plugins/hostile/limits").json(&limits)).await;
    assert_eq!(status, 204);

    let (status, v2) = send(app.install_request(hostile_with(hostile_toml(), "0.2.0"))).await;
    assert_eq!((status, v2["limits"]["fuel"].as_u64()), (201, Some(1_000_000)), "{v2}");
    let (status, _) =
        send(app.operator(Method::POST, "/api/v1/plugins/hostile/activate").json(&json!({"version": "0.1.0"}))).await;
    assert_eq!(status, 204);

    let (_, list) = send(app.operator(Method::GET, "/api/v1/plugins")).await;
    let active: Vec<&Value> = list.as_array().expect("list").iter().filter(|p| p["active"] == true).collect();
    assert_eq!(active.len(), 1, "{list}");
    assert_eq!((active[0]["version"].as_str(), active[0]["limits"]["timeout-ms"].as_u64()), (Some("0.1.0"), Some(50)));

    // And on a host started later, from the database.
    let other = spawn_host_of(&app).await;
    let (_, list) = send(other.operator(Method::GET, "/api/v1/plugins")).await;
    let active: Vec<&Value> = list.as_array().expect("list").iter().filter(|p| p["active"] == true).collect();
    assert_eq!((active[0]["version"].as_str(), active[0]["limits"]["fuel"].as_u64()), (Some("0.1.0"), Some(1_000_000)));
}

#[tokio::test]
async fn a_package_installed_at_every_start_is_kept_once_installed() {
    let app = spawn_app().await;
    let path = built("plugins/multi-tier").path;
    let start = |app: &TestApp| {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let settings = upline_host::app::Settings {
            database_url: Some(app.database_url.clone()),
            install: vec![path.clone()],
            ..upline_host::app::Settings::new(
                data_dir.path().to_path_buf(),
                "127.0.0.1:0".parse().expect("address"),
                app.operator_key.clone(),
            )
        };
        spawn_with(settings, data_dir)
    };
    let first = start(&app).await;
    let again = start(&app).await;
    for host in [&first, &again] {
        let (_, list) = send(host.operator(Method::GET, "/api/v1/plugins")).await;
        let ids: Vec<&str> = list.as_array().expect("list").iter().filter_map(|p| p["id"].as_str()).collect();
        assert_eq!(ids, ["multi-tier"], "{list}");
    }
}

#[tokio::test]
async fn two_hosts_installing_one_version_at_once_store_it_once() {
    let first = spawn_app().await;
    let second = spawn_host_of(&first).await;
    let mut answers = Vec::new();
    for version in ["0.3.0", "0.4.0"] {
        let package = hostile_with(hostile_toml(), version);
        let (a, b) = tokio::join!(first.install(package.clone()), second.install(package));
        answers.push((a.status().as_u16(), b.status().as_u16()));
    }
    for (a, b) in answers {
        let mut statuses = [a, b];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409]);
    }
    let (_, list) = send(first.operator(Method::GET, "/api/v1/plugins")).await;
    let versions: Vec<(&str, bool)> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|p| (p["version"].as_str().unwrap_or_default(), p["active"] == true))
        .collect();
    assert_eq!(versions, [("0.3.0", false), ("0.4.0", true)], "{list}");
}

#[tokio::test]
async fn a_development_version_is_replaced_in_place_and_a_release_is_not() {
    let app = spawn_app().await;
    let dev_install = |bytes: Vec<u8>| {
        app.operator(Method::POST, "/api/v1/plugins?dev=true").header("content-type", "application/wasm").body(bytes)
    };
    let first = hostile_with(hostile_toml(), "0.2.0-dev");
    let (status, installed) = send(app.install_request(first)).await;
    assert_eq!(status, 201, "{installed}");

    // Rebuilt with a change: refused as an ordinary install, replaced as a development one.
    let about = PluginToml { description: "rebuilt".into(), ..hostile_toml() };
    let rebuilt = hostile_with(about, "0.2.0-dev");
    let (status, error) = error_of(app.install(rebuilt.clone()).await).await;
    assert_eq!((status, error["field"].as_str()), (409, Some("version")), "{error}");
    let (status, replaced) = send(dev_install(rebuilt)).await;
    assert_eq!(
        (status, replaced["description"].as_str(), replaced["active"].as_bool()),
        (201, Some("rebuilt"), Some(true))
    );
    assert_ne!(replaced["digest"], installed["digest"]);
    let (_, list) = send(app.operator(Method::GET, "/api/v1/plugins")).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "one version, replaced: {list}");
    assert_eq!(list[0]["digest"], replaced["digest"]);

    // Another host on the database runs the replaced bytes too.
    let other = spawn_host_of(&app).await;
    let (_, list) = send(other.operator(Method::GET, "/api/v1/plugins")).await;
    assert_eq!((list[0]["digest"].clone(), list[0]["active"].clone()), (replaced["digest"].clone(), json!(true)));

    // A release version is never replaced in place, and says so.
    assert_eq!(app.install(hostile()).await.status(), 201);
    let changed = hostile_with(PluginToml { description: "changed".into(), ..hostile_toml() }, "0.1.0");
    let (status, error) = error_of(dev_install(changed).send().await.expect("request")).await;
    assert_eq!((status, error["field"].as_str()), (409, Some("version")), "{error}");
    assert!(error["message"].as_str().is_some_and(|m| m.contains("not a development version")), "{error}");
}

#[tokio::test]
async fn the_config_schema_comes_from_the_plugin_s_code_and_a_config_it_cannot_read_is_refused_on_save() {
    let app = spawn_app().await;
    let (campaign, _) = app.campaign_with("multi-tier", "10").await;
    // Freshly built: a 0.1 package (UPLINE_TEST_PACKAGES) has its schema in its manifest.
    assert_eq!(app.install(fresh_package("plugins/sale-bonus")).await.status(), 201);

    // The schema operators see is derived from the plugin's Config type and its doc comments.
    let (_, plugins) = send(app.operator(Method::GET, "/api/v1/plugins")).await;
    let bonus = plugins.as_array().and_then(|list| list.iter().find(|p| p["id"] == "sale-bonus")).expect("listed");
    let schema = &bonus["config_schema"];
    assert_eq!(schema["title"], "Bonus for big sales", "{schema}");
    assert_eq!(schema["required"], json!(["minimum", "bonus"]), "{schema}");
    assert_eq!(
        schema["properties"]["minimum"]["description"],
        "Smallest sale total (in the sale's currency) that earns the bonus."
    );

    // 35 digits fit the schema's decimal pattern, but not the plugin's Decimal: refused
    // when saved, naming the field, instead of failing every later sale.
    let url = format!("/api/v1/campaigns/{campaign}/plugins/sale-bonus");
    let huge = format!("1{}", "0".repeat(34));
    let body = json!({"enabled": true, "config": {"minimum": huge, "bonus": "5"}});
    let (status, error) = send(app.operator(Method::PUT, &url).json(&body)).await;
    assert_eq!((status, error["error"]["field"].as_str()), (422, Some("/minimum")), "{error}");
    let message = error["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("sale-bonus") && message.contains("the plugin cannot read it"), "{error}");
    let (_, bindings) = send(app.operator(Method::GET, &format!("/api/v1/campaigns/{campaign}/plugins"))).await;
    assert!(!bindings.to_string().contains("sale-bonus"), "nothing stored: {bindings}");

    let body = json!({"enabled": true, "config": {"minimum": "50", "bonus": "5"}});
    assert_eq!(send(app.operator(Method::PUT, &url).json(&body)).await.0, 200);
}
