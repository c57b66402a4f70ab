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
        let body: Value = response.json().await.unwrap_or(Value::Null);

        // A request no route takes gets the fallback's 404 or a 405.
        let unrouted =
            body["error"]["message"].as_str().is_some_and(|m| m.starts_with("no such route")) || status == 405;
        assert!(!unrouted, "{method} {path} is not served: {status} {body}");
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

/// Bad input to every documented operation, with a valid token: a path id that is
/// not a number, unknown ids, a query parameter of the wrong type, a body of the
/// wrong type, a body missing its fields, and an oversized body each get a 4xx in
/// the API's error shape, naming the field where it is unambiguous.
#[tokio::test]
async fn every_operation_refuses_bad_input_with_a_4xx_in_the_error_shape() {
    let app = spawn_app().await;
    app.campaign_with("multi-tier", "10").await;
    let login = json!({"email": "affiliate@shop.example", "password": "a long password"});
    let (_, session) = send(app.client.post(format!("{}/api/v1/affiliate/login", app.address)).json(&login)).await;
    let affiliate_token = session["token"].as_str().expect("a session").to_owned();
    let document = document(&app).await;

    let mut checked = 0;
    for (method, path, _) in operations(&document) {
        let operation = &document["paths"][&path][method.as_str().to_lowercase()];
        let parameters: Vec<&Value> =
            operation["parameters"].as_array().map(|all| all.iter().collect()).unwrap_or_default();
        let has_body = operation.get("requestBody").is_some();
        let request = |url: String| {
            let request = app.client.request(method.clone(), format!("{}{url}", app.address));
            if path.starts_with("/api/v1/affiliate/") {
                request.bearer_auth(&affiliate_token)
            } else {
                request.bearer_auth(&app.operator_key)
            }
        };
        let url_with = |value_of: &dyn Fn(&str) -> String| {
            path.split('/')
                .map(|part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) => value_of(name),
                    None => part.to_owned(),
                })
                .collect::<Vec<_>>()
                .join("/")
        };
        let mut cases: Vec<(String, reqwest::RequestBuilder, Option<String>)> = Vec::new();
        for parameter in &parameters {
            let name = parameter["name"].as_str().expect("a name").to_owned();
            let integer = parameter["schema"]["type"] == "integer"
                || parameter["schema"]["type"].as_array().is_some_and(|t| t.contains(&json!("integer")));
            let dated = parameter["schema"]["format"] == "date";
            if !(integer || dated) {
                continue;
            }
            // Another required input may be refused first.
            let required_query = parameters.iter().any(|p| p["in"] == "query" && p["required"] == true);
            let expected = (!has_body && !required_query).then(|| name.clone());
            match parameter["in"].as_str() {
                Some("path") => {
                    let url = url_with(&|p| if p == name { "x".into() } else { "1".into() });
                    cases.push((format!("path {name}=x"), request(url), expected));
                }
                Some("query") => {
                    let url = format!("{}?{name}=x", url_with(&|_| "1".into()));
                    cases.push((format!("query {name}=x"), request(url), expected));
                }
                _ => {}
            }
        }
        if parameters.iter().any(|p| p["in"] == "path") {
            let unknown = url_with(&|_| "999999".into());
            let body = if has_body { request(unknown).json(&json!({})) } else { request(unknown) };
            cases.push(("unknown ids".into(), body, None));
        }
        if has_body {
            let url = url_with(&|_| "1".into());
            cases.push(("a body of the wrong type".into(), request(url.clone()).json(&json!([1, 2])), None));
            cases.push(("a body missing its fields".into(), request(url.clone()).json(&json!({})), None));
            let oversized = "x".repeat(3 * 1024 * 1024);
            cases.push((
                "an oversized body".into(),
                request(url).header("content-type", "application/json").body(oversized),
                None,
            ));
        }
        for (what, request, field) in cases {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            let context = format!("{method} {path} with {what}: {status} {body}");
            if what == "unknown ids" && (200..300).contains(&status) {
                continue; // e.g. listing an unknown campaign's coupons: an empty list
            }
            if what == "a body missing its fields" && method == Method::PATCH && (200..300).contains(&status) {
                continue; // an empty patch changes nothing
            }
            assert!((400..500).contains(&status), "{context}");
            assert!(body["error"]["code"].is_string() && body["error"]["message"].is_string(), "{context}");
            if let Some(field) = field {
                assert_eq!(body["error"]["field"], field, "{context}");
            }
            checked += 1;
        }
    }
    assert!(checked > 60, "{checked} bad requests checked");
}

#[tokio::test]
async fn every_error_is_in_the_one_json_shape_size_limits_included() {
    let app = spawn_app().await;
    let huge = vec![0u8; 40 * 1024 * 1024];
    let big_json = format!("{{\"name\": \"{}\"}}", "x".repeat(3 * 1024 * 1024));
    let cases = [
        (app.install_request(huge), 413, "too_large"),
        (
            app.operator(Method::POST, "/api/v1/campaigns").header("content-type", "application/json").body(big_json),
            413,
            "too_large",
        ),
        (app.operator(Method::GET, "/api/v1/no-such-thing"), 404, "not_found"),
        (app.client.get(format!("{}/nothing/here", app.address)), 404, "not_found"),
        (app.operator(Method::DELETE, "/api/v1/campaigns"), 405, "method_not_allowed"),
    ];
    for (request, status, code) in cases {
        let response = request.send().await.expect("response");
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["content-type"], "application/json");
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].is_string(), "{body}");
    }
}
