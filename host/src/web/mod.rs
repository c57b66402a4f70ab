//! The merchant console and the affiliate portal: server-rendered pages on the same
//! services as the JSON API (templates in `host/templates`, compiled into the binary
//! by askama).
//!
//! Operators log in with an e-mail and a password ([`crate::service::operators`]);
//! the session token lives in an HttpOnly, Secure, SameSite=Strict cookie, and
//! every form carries the session's CSRF token, checked before anything is done
//! ([`session`]). Pages so far: log in and out, the campaigns with a form for a new
//! one, and a campaign's page: its plugins switched on or off with a configuration
//! form generated from each one's JSON Schema, and "try a sale"; the commissions,
//! filtered and paged, approved or declined (also in bulk, with a reason); the jobs
//! and their outcomes, a failed one run again. The
//! affiliate portal ([`portal`]): a dashboard in English, German or Dutch.

mod campaign;
mod commissions;
mod console;
mod i18n;
mod jobs;
mod portal;
mod schema_form;
mod session;

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
        .merge(console::router())
        .merge(campaign::router())
        .merge(commissions::router())
        .merge(jobs::router())
        .merge(portal::router())
        .route_layer(middleware::from_fn(session::same_site))
}

/// The one stylesheet, embedded in the binary.
async fn stylesheet() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "public, max-age=3600")], include_str!("app.css"))
}
