//! A third-party plugin from nothing to a paid commission, as `docs/plugin-guide.md`
//! section 2 tells it, in a directory outside this repository: scaffold a
//! `distribute` plugin, edit its rule, run its native test (`cargo test`), build it,
//! run it and its golden examples locally, install it into a running server, enable
//! it on a campaign, record a sale and see the commission. The CLI commands are thin
//! wrappers of the library calls used here (`upline plugin new` is
//! `authoring::new_plugin`, `build` is `build::build`, `run` is `runner::run`, `test`
//! is `authoring::golden`).

use std::process::Command;
use std::time::Instant;

use reqwest::Method;
use serde_json::json;
use upline_host::authoring;
use upline_host::plugin::{Hook, PluginEngine};
use upline_package::build::{self, SameVersion};
use upline_tests::*;

#[tokio::test]
async fn a_distribute_plugin_goes_from_nothing_to_a_paid_commission_outside_the_repository() {
    let started = Instant::now();
    let outside = tempfile::tempdir().expect("temp dir");
    let dir = outside.path().join("loyalty-fee");

    // 1. Scaffold.
    authoring::new_plugin(&dir, Hook::Distribute, &workspace_root().join("plugin-sdk")).expect("plugin new");

    // 2. Edit the rule: the referrer's parent earns a fixed 1.00 as well.
    let lib = dir.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).expect("lib.rs");
    let edited = source.replace(
        "        Ok(vec![CommissionLine::new(referrer.affiliate, 1, amount, format!(\"{} % of the sale\", config.percent))])",
        "        let mut lines = vec![CommissionLine::new(referrer.affiliate, 1, amount, format!(\"{} % of the sale\", config.percent))];\n        \
         if let Some(parent) = input.upline.get(1) {\n            \
         lines.push(CommissionLine::new(parent.affiliate, 2, input.conversion.total.with_amount(Decimal::new(100, 2)), \"parent's fee\"));\n        \
         }\n        Ok(lines)",
    );
    assert_ne!(edited, source, "the template's rule line moved: update this test and the guide");
    std::fs::write(
        &lib,
        edited.replace(
            "assert_eq!(paid, [(4, \"12.50 EUR\".to_owned())]);",
            "assert_eq!(paid, [(4, \"12.50 EUR\".to_owned()), (3, \"1.00 EUR\".to_owned())]);",
        ),
    )
    .expect("edit");

    // 3. Its native test, as the author runs it.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let tested =
        Command::new(&cargo).arg("test").current_dir(&dir).env("CARGO_TARGET_DIR", dir.join("target")).output();
    let tested = tested.expect("cargo test");
    assert!(
        tested.status.success(),
        "cargo test:\n{}\n{}",
        String::from_utf8_lossy(&tested.stdout),
        String::from_utf8_lossy(&tested.stderr)
    );

    // 4. Build; 5. run locally; the golden example needs recording after the edit.
    let built = build::build(&dir, &dir.join("target"), SameVersion::Refuse).expect("plugin build");
    assert!(built.path.starts_with(&dir), "{}", built.path.display());
    let package = std::fs::read(&built.path).expect("package");
    let engine = PluginEngine::new().expect("engine");
    let example = std::fs::read_to_string(dir.join("examples/example.json")).expect("example");
    let report = upline_host::runner::run(&engine, package.clone(), None, &example).expect("plugin run");
    assert_eq!(report["value"][1]["amount"], json!({"amount": "1.00", "currency": "EUR"}), "{report}");
    let examples = dir.join("examples");
    let failed = authoring::golden(&engine, &package, &examples, false).expect("plugin test");
    assert!(failed[0].failure.as_deref().is_some_and(|f| f.contains("expected")), "{failed:?}");
    authoring::golden(&engine, &package, &examples, true).expect("plugin test --bless");
    let passed = authoring::golden(&engine, &package, &examples, false).expect("plugin test");
    assert!(passed.iter().all(|case| case.failure.is_none()), "{passed:?}");

    // 6. Install into a running server, enable on a campaign, record a sale.
    let app = spawn_app().await;
    let installed = app.install(package).await;
    assert_eq!(installed.status(), 201, "{}", installed.text().await.unwrap_or_default());
    let body = json!({"name": "Loyalty", "currency": "EUR", "landing-url": "https://shop.example/"});
    let (_, campaign) = send(app.operator(Method::POST, "/api/v1/campaigns").json(&body)).await;
    let campaign = campaign["id"].as_i64().expect("campaign");
    let url = format!("/api/v1/campaigns/{campaign}/plugins/loyalty-fee");
    let (status, bound) =
        send(app.operator(Method::PUT, &url).json(&json!({"enabled": true, "config": {"percent": "12.5"}}))).await;
    assert_eq!(status, 200, "{bound}");
    let affiliate = |name: &str, parent: Option<i64>| {
        let body = json!({"name": name, "email": format!("{name}@shop.example"), "password": "a long password",
            "parent": parent});
        let app = &app;
        async move { send(app.operator(Method::POST, "/api/v1/affiliates").json(&body)).await.1["id"].as_i64() }
    };
    let parent = affiliate("parent", None).await.expect("parent");
    let referrer = affiliate("referrer", Some(parent)).await.expect("referrer");
    let sale = json!({"campaign": campaign, "affiliate": referrer, "order-id": "guide-1", "total": "80.00"});
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    assert_eq!(status, 201, "{recorded}");
    let paid = paid(&recorded);
    assert_eq!(paid, [(referrer, "10.00".to_owned()), (parent, "1.00".to_owned())], "{recorded}");
    assert_eq!(recorded["commissions"][0]["plugin"], "loyalty-fee@0.1.0-dev");
    eprintln!("from nothing to a paid commission: {:.0?}", started.elapsed());
}
