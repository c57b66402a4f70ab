//! The OpenAPI document of the HTTP API, served at `GET /api/v1/openapi.json`.
//!
//! utoipa generates it from the code, so it follows the handlers: each handler carries
//! `#[utoipa::path]`, and the routers register it with `utoipa_axum::routes!`, which
//! adds the route and its documentation in one step. Request bodies come from the
//! handlers' `Json<T>` extractors; the types sent and received derive `ToSchema`.
//! The plugin SDK is compiled to wasm without utoipa: [`sdk`] describes its types.

use std::sync::Arc;

use axum::Extension;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, ResponseBuilder};
use utoipa::{Modify, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::error::ErrorBody;

/// The security scheme of the operator API key.
pub const OPERATOR_KEY: &str = "operator-key";
/// The security scheme of an affiliate's session token.
pub const AFFILIATE_SESSION: &str = "affiliate-session";
/// The security scheme of the metrics token.
pub const METRICS_TOKEN: &str = "metrics-token";

/// What the document says beyond its paths and schemas.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Upline",
        version = env!("CARGO_PKG_VERSION"),
        description = "Affiliate tracking and multi-tier commissions. Every error has the shape \
                       `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    modifiers(&SecuritySchemes),
    // `secured` refers to it by name.
    components(schemas(ErrorBody)),
    tags(
        (name = "plugins", description = "Commission plugins: install, activate, limits"),
        (name = "campaigns", description = "Campaigns, commission groups and their plugins"),
        (name = "affiliates", description = "Affiliates and their tree"),
        (name = "conversions", description = "Conversions from merchants' servers, and their commissions"),
        (name = "lifecycle", description = "Approving, declining and paying commissions; refunds"),
        (name = "rewards", description = "Awards and notifications rule plugins gave affiliates"),
        (name = "webhooks", description = "Webhooks out: endpoints, signed deliveries and their attempts"),
        (name = "panel", description = "The affiliate panel: an affiliate's own data"),
        (name = "tracking", description = "Public tracking: referral links, clicks and the page snippet"),
        (name = "operations", description = "Health, metrics, operator keys, jobs, the audit log and this document"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description)).build(),
            )
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            OPERATOR_KEY,
            bearer("An operator API key: the bootstrap key of the server, or one made with `upline operator-key`."),
        );
        components.add_security_scheme(
            AFFILIATE_SESSION,
            bearer("An affiliate's session token, from `POST /api/v1/affiliate/login`."),
        );
        components.add_security_scheme(
            METRICS_TOKEN,
            bearer("The metrics token the operator gave the server (`--metrics-token`)."),
        );
    }
}

/// Documents that every operation of `router` needs a bearer token of `scheme` and
/// answers 401 without a valid one. Call it where the router gets the middleware
/// that checks the token.
pub fn secured<S>(mut router: OpenApiRouter<S>, scheme: &str) -> OpenApiRouter<S>
where
    S: Send + Sync + Clone + 'static,
{
    let unauthorized = ResponseBuilder::new()
        .description("No valid token (code `unauthorized`)")
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name(ErrorBody::name()))).build(),
        )
        .build();
    for item in router.get_openapi_mut().paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            operation.security = Some(vec![SecurityRequirement::new(scheme, Vec::<String>::new())]);
            operation.responses.responses.insert("401".into(), unauthorized.clone().into());
        }
    }
    router
}

/// This document (public, for client generators).
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI document of this API", body = Object))
)]
pub async fn document(Extension(document): Extension<Arc<OpenApi>>) -> Response {
    axum::Json(document.as_ref()).into_response()
}

/// Schemas of the plugin SDK's types as the API sends and receives them (the SDK
/// serializes them with serde). Fields use them with `#[schema(value_type = ...)]`.
pub mod sdk {
    use utoipa::ToSchema;

    /// An exact amount: a decimal string (never a float) and an ISO 4217 currency code.
    #[derive(ToSchema)]
    #[schema(example = json!({"amount": "12.50", "currency": "EUR"}))]
    pub struct Money {
        /// The amount, e.g. `"12.50"`; negative for reversals.
        pub amount: String,
        /// ISO 4217 code, e.g. `EUR`.
        pub currency: String,
    }

    /// A commission group's setting for one tier.
    #[derive(ToSchema)]
    pub struct TierSetting {
        /// 1 for the referring affiliate, 2 for its parent, ... up to 100.
        #[schema(minimum = 1, maximum = 100)]
        pub tier: u32,
        /// How the tier's amount is computed.
        pub rule: TierRule,
    }

    /// How one tier's commission is computed; each value is a decimal string.
    #[derive(ToSchema)]
    #[serde(rename_all = "kebab-case")]
    pub enum TierRule {
        /// A percentage (0 to 100) of the commissionable total, e.g. `"10"`.
        Percent(String),
        /// A fixed amount in the campaign's currency, e.g. `"5.00"`.
        Fixed(String),
        /// A percentage (0 to 100) of the previous tier's commission.
        PercentOfPrevious(String),
    }
}

#[cfg(test)]
mod tests {
    /// `routes!` registers a route together with its documentation; a route added any
    /// other way would be served undocumented.
    #[test]
    fn routes_are_only_added_with_their_documentation() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
        let bypasses = [".route", ".route_service", ".nest_service", ".fallback"].map(|call| format!("{call}("));
        for entry in std::fs::read_dir(dir).expect("the http sources") {
            let path = entry.expect("a directory entry").path();
            let source = std::fs::read_to_string(&path).expect("a source file");
            for bypass in &bypasses {
                assert!(!source.contains(bypass.as_str()), "{} calls `{bypass}`: use `routes!`", path.display());
            }
        }
    }
}
