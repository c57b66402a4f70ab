//! The affiliate portal's lists: every commission, oldest first, and every payout,
//! newest first, a page at a time (the services of `GET /api/v1/affiliate/commissions`
//! and `/affiliate/payouts`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::i18n::Tr;
use super::portal::Affiliate;
use super::session::ErrorPage;
use crate::http::AppState;
use crate::service::affiliates;
use crate::service::lifecycle::{self, CommissionFilter, PayoutFilter};

/// Rows a page shows.
const PAGE: u64 = 50;

/// The lists' routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/portal/commissions", get(commissions)).route("/portal/payouts", get(payouts))
}

/// Where a page starts: after (commissions) or before (payouts) an id.
#[derive(Deserialize)]
struct From {
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    before: Option<i64>,
}

/// One row: its cells as shown.
struct Row {
    id: i64,
    cells: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal/list.html")]
struct ListPage {
    title: String,
    t: Tr,
    name: String,
    csrf: String,
    /// The column headings.
    columns: Vec<String>,
    rows: Vec<Row>,
    /// What an empty list says.
    empty: String,
    /// The next page's address, when this page is full.
    next: Option<String>,
}

impl ListPage {
    async fn of(state: &AppState, t: Tr, me: &Affiliate, title: &str, columns: &[&str]) -> crate::Result<Self> {
        let name = affiliates::get(&state.reader, me.id).await?.name;
        Ok(Self {
            title: t.t(title),
            columns: columns.iter().map(|c| t.t(c)).collect(),
            empty: String::new(),
            rows: vec![],
            next: None,
            name,
            csrf: me.csrf.clone(),
            t,
        })
    }
}

async fn commissions(State(state): State<AppState>, t: Tr, me: Affiliate, Query(from): Query<From>) -> Response {
    let listed = async {
        let mut page = ListPage::of(
            &state,
            t,
            &me,
            "commissions",
            &["date", "campaign", "tier", "amount", "status", "explanation"],
        )
        .await?;
        let filter =
            CommissionFilter { affiliate: Some(me.id), after: from.after, limit: Some(PAGE), ..Default::default() };
        let found = lifecycle::list(&state.reader, &filter).await?;
        page.next =
            (found.len() as u64 == PAGE).then(|| format!("/portal/commissions?after={}", found[found.len() - 1].id));
        page.rows = found
            .into_iter()
            .map(|c| Row {
                id: c.id,
                cells: vec![
                    c.created_at.format("%Y-%m-%d").to_string(),
                    c.campaign.to_string(),
                    c.tier.to_string(),
                    t.money(c.amount.amount(), c.amount.currency()),
                    t.t(&format!("status-{}", c.status)),
                    c.explanation,
                ],
            })
            .collect();
        page.empty = t.t("no-earnings");
        Ok(page)
    };
    respond(listed.await)
}

async fn payouts(State(state): State<AppState>, t: Tr, me: Affiliate, Query(from): Query<From>) -> Response {
    let listed = async {
        let mut page = ListPage::of(&state, t, &me, "payouts", &["date", "amount", "commissions"]).await?;
        let filter = PayoutFilter { affiliate: Some(me.id), before: from.before, limit: Some(PAGE) };
        let found = lifecycle::payouts(&state.reader, &filter).await?;
        page.next =
            (found.len() as u64 == PAGE).then(|| format!("/portal/payouts?before={}", found[found.len() - 1].id));
        page.rows = found
            .into_iter()
            .map(|p| Row {
                id: p.id,
                cells: vec![
                    p.created_at.format("%Y-%m-%d").to_string(),
                    t.money(p.amount.amount(), p.amount.currency()),
                    p.commissions.to_string(),
                ],
            })
            .collect();
        page.empty = t.t("no-payouts");
        Ok(page)
    };
    respond(listed.await)
}

fn respond(page: crate::Result<ListPage>) -> Response {
    match page {
        Ok(page) => page.into_response(),
        Err(err) => ErrorPage::from_error(&err),
    }
}
