//! The merchant console and the affiliate portal: server-rendered pages on the same
//! services as the JSON API (templates in `host/templates`, compiled into the binary
//! by askama).
//!
//! Operators log in with an e-mail and a password ([`crate::service::operators`]);
//! the session token lives in an HttpOnly, Secure, SameSite=Strict cookie, and
//! every form carries the session's CSRF token, checked before anything is done
//! ([`session`]); a form marked `data-partial` updates only its part of the page
//! (`app.js`). The console: campaigns (created, every setting changed), a
//! campaign's commission groups and tiers, its plugins switched on or off with a
//! configuration form generated from each one's JSON Schema, and "try a sale"; the
//! affiliate tree; conversions (refunded, reprocessed); commissions approved or
//! declined, also in bulk; payouts; installed plugins (uploaded, activated,
//! limited); jobs; the audit log. The affiliate portal ([`portal`]): the dashboard,
//! commissions and payouts in English, German or Dutch.

mod affiliates;
mod audit;
mod campaign;
mod commissions;
mod console;
mod conversions;
mod groups;
mod i18n;
mod jobs;
mod payouts;
mod plugins;
mod portal;
mod portal_lists;
mod schema_form;
mod session;
mod settings_form;

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use axum::{Router, middleware};

use crate::http::AppState;

/// The console's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
        .merge(console::router())
        .merge(campaign::router())
        .merge(groups::router())
        .merge(commissions::router())
        .merge(jobs::router())
        .merge(plugins::router())
        .merge(affiliates::router())
        .merge(conversions::router())
        .merge(payouts::router())
        .merge(audit::router())
        .merge(portal::router())
        .route_layer(middleware::from_fn(session::same_site))
}

/// The one script (partial updates of forms marked `data-partial`), embedded in the binary.
async fn script() -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")],
        include_str!("app.js"),
    )
}

/// The one stylesheet, embedded in the binary.
async fn stylesheet() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")], include_str!("app.css"))
}

/// The query string of the `pairs` that have a non-empty value (a filter's page).
fn query(pairs: &[(&str, Option<String>)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
            query.append_pair(name, value);
        }
    }
    query.finish()
}

/// A refused request shows its form again with the error (a 4xx other than 404);
/// anything else is an error page.
fn shown_on_form(err: &crate::Error) -> bool {
    let (status, _) = err.status_and_code();
    status.is_client_error() && status != axum::http::StatusCode::NOT_FOUND
}
