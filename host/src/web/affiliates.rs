//! The console's affiliate tree: one level at a time (the affiliates nobody
//! recruited, then any affiliate's recruits), the way up to the top, a new
//! affiliate under the level shown, and an affiliate suspended or made active again
//! (the services of `POST /api/v1/affiliates` and `PUT /affiliates/{id}/status`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::session::{ErrorPage, Operator, Posted};
use crate::domain::affiliate::{AffiliateRequest, AffiliateStatus};
use crate::http::AppState;
use crate::service::affiliates::{self, Affiliate, Node};
use crate::service::operators::Session;

/// Affiliates a page shows.
const PAGE: u64 = 50;

/// The affiliate tree's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/affiliates", get(list).post(create))
        .route("/console/affiliates/{id}/status", post(set_status))
}

/// The level shown, as the query string.
#[derive(Deserialize, Default)]
struct Level {
    #[serde(default)]
    parent: Option<i64>,
    #[serde(default)]
    after: Option<i64>,
}

impl Level {
    fn query(&self, after: Option<i64>) -> String {
        super::query(&[("parent", self.parent.map(|p| p.to_string())), ("after", after.map(|a| a.to_string()))])
    }
}

/// The tree's page with `query`, at affiliate `id`'s row.
fn at(query: &str, id: i64) -> String {
    let query = if query.is_empty() { String::new() } else { format!("?{query}") };
    format!("/console/affiliates{query}#affiliate-{id}")
}

/// One field of the new-affiliate form.
struct Field {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "console/affiliates.html")]
struct AffiliatesPage {
    title: &'static str,
    session: Session,
    /// The affiliates above the level, from the top down; the last is its parent.
    upline: Vec<Affiliate>,
    nodes: Vec<Node>,
    /// This page's query string, to come back to.
    this_page: String,
    /// The next page's query string, when this page is full.
    next: Option<String>,
    fields: Vec<Field>,
    /// An error that names no field.
    error: Option<String>,
}

impl AffiliatesPage {
    async fn load(
        state: &AppState,
        session: Session,
        level: &Level,
        entered: &[(String, String)],
    ) -> crate::Result<Self> {
        let mut upline = match level.parent {
            Some(parent) => affiliates::upline(&state.reader, parent).await?.into_iter().map(Affiliate::from).collect(),
            None => vec![],
        };
        upline.reverse();
        let nodes = affiliates::children(&state.reader, level.parent, level.after, PAGE).await?;
        let next = (nodes.len() as u64 == PAGE).then(|| level.query(nodes.last().map(|n| n.affiliate.id)));
        let value = |name: &str| entered.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let field =
            |name, label, kind| Field { name, label, kind, value: value(name).unwrap_or_default(), error: None };
        let parent = value("parent").or(level.parent.map(|p| p.to_string())).unwrap_or_default();
        let fields = vec![
            field("name", "Name", "text"),
            field("email", "E-mail", "email"),
            field("password", "Password (10 to 200 characters)", "password"),
            Field { value: parent, ..field("parent", "Recruited by (affiliate id)", "number") },
            field("customer", "Customer reference in the shop", "text"),
        ];
        Ok(Self {
            title: "Affiliates",
            session,
            upline,
            nodes,
            this_page: level.query(level.after),
            next,
            fields,
            error: None,
        })
    }
}

async fn list(State(state): State<AppState>, operator: Operator, Query(level): Query<Level>) -> Response {
    match AffiliatesPage::load(&state, operator.session, &level, &[]).await {
        Ok(page) => page.into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Creates an affiliate with the API's checks; a refused field is shown beside it.
async fn create(State(state): State<AppState>, Posted { operator, fields }: Posted) -> Response {
    let value = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_owned());
    let parent = value("parent").filter(|p| !p.is_empty());
    let created = async {
        let mut body = serde_json::json!({
            "name": value("name").unwrap_or_default(),
            "email": value("email").unwrap_or_default(),
            // A password is taken as typed.
            "password": fields.iter().find(|(n, _)| n == "password").map(|(_, v)| v.as_str()).unwrap_or_default(),
        });
        if let Some(parent) = &parent {
            let id = parent.parse::<i64>().map_err(|_| crate::Error::InvalidInput {
                field: "parent".into(),
                message: "must be an affiliate id".into(),
            })?;
            body["parent"] = id.into();
        }
        if let Some(customer) = value("customer").filter(|c| !c.is_empty()) {
            body["customer"] = customer.into();
        }
        let request: AffiliateRequest = crate::http::parse_json(body.to_string().as_bytes())?;
        let new = request.parse(|password| state.passwords.hash(password)).await?;
        affiliates::create(&state.db, new, state.clock.now()).await
    };
    let created = created.await;
    let level = Level { parent: parent.and_then(|p| p.parse().ok()), after: None };
    let err = match created {
        Ok(affiliate) => {
            return Redirect::to(&at(&level.query(None), affiliate.id)).into_response();
        }
        Err(err) if super::shown_on_form(&err) => err,
        Err(err) => return ErrorPage::from_error(&err),
    };
    // The password is not shown again.
    let entered: Vec<(String, String)> = fields.into_iter().filter(|(n, _)| n != "password").collect();
    // Under a parent that does not exist, the form is shown at the top.
    let bad_parent = matches!(&err, crate::Error::InvalidInput { field, .. } if field == "parent");
    let shown = if bad_parent { Level::default() } else { level };
    let mut page = match AffiliatesPage::load(&state, operator.session, &shown, &entered).await {
        Ok(page) => page,
        Err(err) => return ErrorPage::from_error(&err),
    };
    let (field, message) = match &err {
        crate::Error::InvalidInput { field, message } | crate::Error::Conflict { field, message } => {
            (field.clone(), message.clone())
        }
        err => (String::new(), err.to_string()),
    };
    match page.fields.iter_mut().find(|f| f.name == field) {
        Some(f) => f.error = Some(message),
        None => page.error = Some(message),
    }
    (StatusCode::UNPROCESSABLE_ENTITY, page).into_response()
}

/// Suspends an affiliate (its sessions end, its links record no clicks) or makes it
/// active again, then shows the same level.
async fn set_status(State(state): State<AppState>, Path(id): Path<i64>, Posted { fields, .. }: Posted) -> Response {
    let value = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let status = match value("status").as_str() {
        "active" => AffiliateStatus::Active,
        "suspended" => AffiliateStatus::Suspended,
        other => return ErrorPage::response(StatusCode::BAD_REQUEST, format!("status: `{other}` is not a status")),
    };
    match affiliates::set_status(&state.db, id, status, "operator", state.clock.now()).await {
        Ok(_) => Redirect::to(&at(&value("back"), id)).into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}
