//! The console's session cookie, the operator it names, and the checks every form
//! goes through: its CSRF token, and that it was posted from this site.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use sha2::{Digest, Sha256};

use crate::http::AppState;
use crate::service::operators::{self, Session};

/// The console's session cookie.
pub const CONSOLE: &str = "upline_console";

/// The cookie `name` of a new session: HttpOnly (no script reads it), Secure
/// (browsers treat `http://localhost` and `127.0.0.1` as secure; elsewhere the pages
/// need HTTPS), SameSite=Strict (no other site's request carries it).
pub fn cookie(name: &'static str, token: String) -> Cookie<'static> {
    Cookie::build((name, token)).path("/").http_only(true).secure(true).same_site(SameSite::Strict).build()
}

/// The jar without the session cookie `name` (logout).
pub fn forget(jar: CookieJar, name: &'static str) -> CookieJar {
    jar.remove(Cookie::build(name).path("/"))
}

/// The token in the session cookie `name`.
pub fn token(parts: &Parts, name: &str) -> Option<String> {
    CookieJar::from_headers(&parts.headers).get(name).map(|cookie| cookie.value().to_owned())
}

/// The fields of a form without its `csrf` field, if that is `expected`.
pub fn check_csrf(expected: &str, mut fields: Vec<(String, String)>) -> Result<Vec<(String, String)>, BadToken> {
    let position = fields.iter().position(|(name, _)| name == "csrf");
    let sent = position.map(|i| fields.remove(i).1).unwrap_or_default();
    // Compared as digests, so the time taken tells nothing about the token.
    if Sha256::digest(sent.as_bytes()) != Sha256::digest(expected.as_bytes()) {
        return Err(BadToken);
    }
    Ok(fields)
}

/// A logged-in operator's request: the session, and its token (for logout).
pub struct Operator {
    /// The live session.
    pub session: Session,
    /// The session's token, from the cookie.
    pub token: String,
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let login = || Redirect::to("/console/login").into_response();
        let token = token(parts, CONSOLE).ok_or_else(login)?;
        match operators::session(&state.reader, &token, state.clock.now()).await {
            Ok(session) => Ok(Operator { session, token }),
            Err(crate::Error::Unauthorized(_)) => Err(login()),
            Err(err) => Err(ErrorPage::from_error(&err)),
        }
    }
}

/// A form a logged-in operator posted: its fields, without its `csrf` field, which
/// was the session's token (else a 403 page, and the handler does not run).
pub struct Posted {
    /// Who posted it.
    pub operator: Operator,
    /// The form's fields, in order.
    pub fields: Vec<(String, String)>,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let operator = Operator::from_request_parts(&mut parts, state).await?;
        let request = Request::from_parts(parts, body);
        let Form(fields) =
            Form::<Vec<(String, String)>>::from_request(request, state).await.map_err(IntoResponse::into_response)?;
        let fields = check_csrf(&operator.session.csrf, fields).map_err(IntoResponse::into_response)?;
        Ok(Posted { operator, fields })
    }
}

/// A form without its session's CSRF token: a 403 page.
pub struct BadToken;

impl IntoResponse for BadToken {
    fn into_response(self) -> Response {
        ErrorPage::forbidden(
            "the form is missing its security token or it is out of date: reload the page and try again",
        )
    }
}

/// Middleware: a form posted from another site is refused (a browser says where a
/// request comes from in `Sec-Fetch-Site`); this also guards the login form, which
/// has no session yet.
pub async fn same_site(request: Request, next: Next) -> Response {
    let site = request.headers().get("sec-fetch-site").and_then(|value| value.to_str().ok());
    if request.method() == axum::http::Method::POST && site.is_some_and(|site| !matches!(site, "same-origin" | "none"))
    {
        return ErrorPage::forbidden("forms are accepted from this site only");
    }
    next.run(request).await
}

/// An error as a page.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The heading, e.g. `403 Forbidden`.
    pub title: String,
    /// What went wrong.
    pub message: String,
}

impl ErrorPage {
    /// The page of `status` saying `message`.
    pub fn response(status: StatusCode, message: impl Into<String>) -> Response {
        let title = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("Error"));
        (status, ErrorPage { title, message: message.into() }).into_response()
    }

    /// A 403 page.
    pub fn forbidden(message: &str) -> Response {
        Self::response(StatusCode::FORBIDDEN, message)
    }

    /// The page of a service's error, with the status the API gives it (a server
    /// error's details go to the log, not the page).
    pub fn from_error(err: &crate::Error) -> Response {
        let (status, _) = err.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %err, "a console page failed");
            return Self::response(status, "something went wrong on the server; see its log");
        }
        Self::response(status, err.to_string())
    }
}
