//! The OpenAPI document: public, served for every route as documented, and its
//! schemas describe what the API really receives and sends.

use reqwest::Method;
use serde_json::{Value, json};
use upline_tests::*;

async fn document(app: &TestApp) -> Value {
    let (status, document) = send(app.client.get(format!("{}/api/v1/openapi.json", app.address))).await;
    assert_eq!(status, 200, "the document is served without a key");
    document
}

/// Every documented operation: its method, its path, and whether it needs a token.
fn operations(document: &Value) -> Vec<(Method, String, bool)> {
    let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            let item = item.as_object().expect("a path item");
            item.iter().filter(|(key, _)| methods.contains(&key.as_str())).map(move |(method, operation)| {
                let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method");
                (method, path.clone(), operation.get("security").is_some())
            })
        })
        .collect()
}

/// Every `$ref` in `value`.
fn references(value: &Value) -> Vec<&str> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(key, value)| match (key.as_str(), value) {
                ("$ref", Value::String(target)) => vec![target.as_str()],
                _ => references(value),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(references).collect(),
        _ => vec![],
    }
}

/// Checks `value` against `schema`, a schema of `document` that may refer to its components.
fn assert_matches(document: &Value, schema: &Value, value: &Value) {
    let mut root = schema.clone();
    root["components"] = document["components"].clone();
    let validator = jsonschema::validator_for(&root).expect("a JSON Schema");
    let errors: Vec<String> = validator.iter_errors(value).map(|err| err.to_string()).collect();
    assert!(errors.is_empty(), "{value} does not match {schema}: {errors:?}");
}

#[tokio::test]
async fn the_document_is_openapi_3_with_both_security_schemes() {
    let app = spawn_app().await;

    let document = document(&app).await;

    assert!(document["openapi"].as_str().is_some_and(|version| version.starts_with("3.")), "{}", document["openapi"]);
    assert_eq!(document["info"]["title"], "Upline");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    for scheme in ["operator-key", "affiliate-session"] {
        assert_eq!(document["components"]["securitySchemes"][scheme]["scheme"], "bearer", "{scheme}");
    }
    for target in references(&document) {
        let found = target.strip_prefix('#').and_then(|pointer| document.pointer(pointer));
        assert!(found.is_some(), "`{target}` refers to nothing");
    }
}

/// The routers register each route with its documentation (`utoipa_axum::routes!`);
/// this checks the other way: each documented operation is served, at its documented
/// path, and asks for a token exactly when the document says so.
#[tokio::test]
async fn every_documented_operation_is_served_and_guarded_as_documented() {
    let app = spawn_app().await;
    let operations = operations(&document(&app).await);
    assert!(operations.len() > 30, "{operations:?}");

    for (method, path, secured) in operations {
        let url = path.split('/').map(|part| if part.starts_with('{') { "1" } else { part }).collect::<Vec<_>>();
        let response = app
            .client
            .request(method.clone(), format!("{}{}", app.address, url.join("/")))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let body = response.bytes().await.expect("body");

        // A request no route takes gets axum's empty 404 or 405.
        assert!(!matches!(status, 404 | 405) || !body.is_empty(), "{method} {path} is not served");
        assert_eq!(status == 401, secured, "{method} {path} answered {status} without a token");
    }
}

#[tokio::test]
async fn the_conversion_schemas_describe_real_requests_and_answers() {
    let app = spawn_app().await;
    let document = document(&app).await;
    let operation = &document["paths"]["/api/v1/conversions"]["post"];
    let request_schema = &operation["requestBody"]["content"]["application/json"]["schema"];
    let name = request_schema["$ref"].as_str().and_then(|target| target.rsplit('/').next()).expect("a named schema");
    let request = &document["components"]["schemas"][name];
    let mut required: Vec<&str> =
        request["required"].as_array().expect("required").iter().flat_map(Value::as_str).collect();
    required.sort_unstable();
    assert_eq!(required, ["campaign"], "the currency defaults to the campaign's");
    assert_eq!(request["properties"]["currency"]["type"], json!(["string", "null"]));
    assert_eq!(request["properties"]["order-id"]["type"], json!(["string", "null"]));
    assert_eq!(request["properties"]["total"]["type"], "string", "amounts are decimal strings");

    let (campaign, affiliate) = app.campaign_with("variable-tier", "10").await;
    let sale =
        json!({"campaign": campaign, "affiliate": affiliate, "order-id": "o-1", "currency": "EUR", "total": "80.00"});
    assert_matches(&document, request_schema, &sale);
    let (status, recorded) = send(app.operator(Method::POST, "/api/v1/conversions").json(&sale)).await;
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["commissions"][0]["amount"], json!({"amount": "8.00", "currency": "EUR"}));
    assert_matches(&document, &operation["responses"]["201"]["content"]["application/json"]["schema"], &recorded);

    let (status, error) =
        send(app.operator(Method::POST, "/api/v1/conversions").json(&json!({"campaign": campaign}))).await;
    assert_eq!((status, error["error"]["field"].as_str()), (400, Some("affiliate")));
    assert_matches(&document, &operation["responses"]["400"]["content"]["application/json"]["schema"], &error);
}
