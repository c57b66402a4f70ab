//! A campaign's commission groups in the console: a new group, each group's tiers
//! per commission type as a table of rows (tier, how it is computed, value), and an
//! affiliate moved to a group; through the services of `POST /campaigns/{id}/groups`,
//! `PUT /groups/{id}/rates` and `PUT /campaigns/{id}/affiliates/{id}/group`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde_json::json;
use upline_types::TierRule;

use super::campaign::CampaignPage;
use super::session::{ErrorPage, Posted};
use crate::domain::campaign::{self, RatesRequest};
use crate::http::AppState;
use crate::service::affiliates;
use crate::service::campaigns::{self, Group};

/// How a tier can be computed, as the API names it.
const RULES: [&str; 3] = ["percent", "fixed", "percent-of-previous"];

/// Rows a rates form shows at least, and empty rows after the last tier.
const ROWS: u32 = 3;

/// The groups' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/console/campaigns/{id}/groups", post(add_group))
        .route("/console/campaigns/{id}/groups/{group}/rates", post(set_rates))
        .route("/console/campaigns/{id}/members", post(move_member))
}

/// A group with a form for each commission type it has tiers for, and one more.
pub struct GroupForms {
    /// The group.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// New affiliates join it.
    pub is_default: bool,
    /// Its rates forms: the stored types, then a new one.
    pub forms: Vec<RatesForm>,
}

impl GroupForms {
    /// The forms of a stored group.
    pub fn of(group: &Group) -> Self {
        let mut forms: Vec<RatesForm> = group
            .rates
            .iter()
            .map(|rates| {
                let rules = rates.tiers.iter().map(|setting| {
                    let (rule, value) = match setting.rule {
                        TierRule::Percent(rate) => ("percent", rate.as_percent()),
                        TierRule::Fixed(amount) => ("fixed", amount),
                        TierRule::PercentOfPrevious(rate) => ("percent-of-previous", rate.as_percent()),
                    };
                    (setting.tier, rule, value.normalize().to_string())
                });
                RatesForm::with(&rates.commission_type, true, rules)
            })
            .collect();
        let new_type = if forms.is_empty() { "sale" } else { "" };
        forms.push(RatesForm::with(new_type, false, std::iter::empty()));
        Self { id: group.id, name: group.name.clone(), is_default: group.is_default, forms }
    }
}

/// One row of a rates form: tier `tier`'s rule and value.
pub struct TierRow {
    /// 1 for the referring affiliate, 2 for its parent, ...
    pub tier: u32,
    /// `percent`, `fixed` or `percent-of-previous`.
    pub rule: String,
    /// A percentage or an amount; empty: the tier pays nothing.
    pub value: String,
    /// What the API says is wrong with it.
    pub error: Option<String>,
}

impl TierRow {
    /// The rules a select offers, and whether each is this row's.
    pub fn rules(&self) -> Vec<(&'static str, bool)> {
        RULES.iter().map(|rule| (*rule, *rule == self.rule)).collect()
    }
}

/// A group's tiers for one commission type.
pub struct RatesForm {
    /// `sale`, `recurring` or `action:<code>`; empty in a new form.
    pub commission_type: String,
    /// Tiers are stored for the type (its name is fixed).
    pub stored: bool,
    /// Tier 1, 2, ... in order.
    pub rows: Vec<TierRow>,
    /// An error that names no row.
    pub error: Option<String>,
}

impl RatesForm {
    /// A form for `commission_type` with `(tier, rule, value)` filled in, and empty
    /// rows after the last.
    fn with(commission_type: &str, stored: bool, filled: impl Iterator<Item = (u32, &'static str, String)>) -> Self {
        let filled: Vec<(u32, &str, String)> = filled.collect();
        let last = filled.iter().map(|(tier, ..)| *tier).max().unwrap_or(0);
        let rows = (1..=(last + ROWS).min(100))
            .map(|tier| {
                let found = filled.iter().find(|(t, ..)| *t == tier);
                TierRow {
                    tier,
                    rule: found.map_or("percent", |(_, rule, _)| rule).to_owned(),
                    value: found.map(|(.., value)| value.clone()).unwrap_or_default(),
                    error: None,
                }
            })
            .collect();
        Self { commission_type: commission_type.to_owned(), stored, rows, error: None }
    }

    /// The form as posted: `commission-type`, `rule-<tier>` and `value-<tier>`.
    fn posted(fields: &[(String, String)]) -> Self {
        let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_owned());
        let commission_type = field("commission-type").unwrap_or_default();
        let rows = (1..=100)
            .map_while(|tier| {
                let value = field(&format!("value-{tier}"))?;
                let rule = field(&format!("rule-{tier}")).unwrap_or_else(|| "percent".into());
                Some(TierRow { tier, rule, value, error: None })
            })
            .collect();
        Self { commission_type, stored: field("stored").is_some(), rows, error: None }
    }

    /// The API's request: the rows with a value.
    fn request(&self) -> crate::Result<RatesRequest> {
        let tiers: Vec<_> =
            self.filled().map(|row| json!({"tier": row.tier, "rule": {row.rule.as_str(): row.value}})).collect();
        let body = json!({"commission-type": self.commission_type, "tiers": tiers});
        crate::http::parse_json(body.to_string().as_bytes())
    }

    fn filled(&self) -> impl Iterator<Item = &TierRow> {
        self.rows.iter().filter(|row| !row.value.is_empty())
    }

    /// Shows `err` beside the row it names (`tiers[1].rule`: the second filled row).
    fn failed(&mut self, err: &crate::Error) {
        let (field, message) = match err {
            crate::Error::InvalidInput { field, message } => (field.as_str(), message.clone()),
            err => ("", err.to_string()),
        };
        let index = field.strip_prefix("tiers[").and_then(|rest| rest.split(']').next()?.parse::<usize>().ok());
        let tiers: Vec<u32> = self.filled().map(|row| row.tier).collect();
        match index.and_then(|i| tiers.get(i)).and_then(|tier| self.rows.iter_mut().find(|row| row.tier == *tier)) {
            Some(row) => row.error = Some(message),
            None => self.error = Some(message),
        }
    }
}

/// Adds a group; a duplicate name or a bad one is shown above the form.
async fn add_group(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { operator, fields }: Posted,
) -> Response {
    let name = fields.iter().find(|(n, _)| n == "group-name").map(|(_, v)| v.as_str()).unwrap_or_default();
    let is_default = fields.iter().any(|(n, v)| n == "group-default" && v == "true");
    let added = match campaign::name("name", name) {
        Ok(name) => campaigns::add_group(&state.db, id, name, is_default, state.clock.now()).await,
        Err(err) => Err(err),
    };
    match added {
        Ok(group) => Redirect::to(&format!("/console/campaigns/{id}#group-{}", group.id)).into_response(),
        Err(err) if super::shown_on_form(&err) => match CampaignPage::load(&state, operator.session, id).await {
            Ok(mut page) => {
                page.group_error = Some(err.to_string());
                page.new_group = name.to_owned();
                page.respond(StatusCode::UNPROCESSABLE_ENTITY)
            }
            Err(err) => ErrorPage::from_error(&err),
        },
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Moves an affiliate to a group of the campaign; an unknown affiliate is shown
/// beside the field.
async fn move_member(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Posted { operator, fields }: Posted,
) -> Response {
    let value =
        |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.trim().to_owned()).unwrap_or_default();
    let (affiliate, group) = (value("member-affiliate"), value("member-group"));
    let moved = match (affiliate.parse::<i64>(), group.parse::<i64>()) {
        (Ok(affiliate), Ok(group)) => affiliates::set_group(&state.db, id, affiliate, group, state.clock.now()).await,
        (Err(_), _) => {
            Err(crate::Error::InvalidInput { field: "affiliate".into(), message: "must be an affiliate id".into() })
        }
        (_, Err(_)) => Err(crate::Error::InvalidInput { field: "group".into(), message: "choose a group".into() }),
    };
    match moved {
        Ok(()) => Redirect::to(&format!("/console/campaigns/{id}#members")).into_response(),
        Err(err) if err.status_and_code().0.is_client_error() => {
            match CampaignPage::load(&state, operator.session, id).await {
                Ok(mut page) => {
                    page.member = (affiliate, Some(err.to_string()));
                    page.respond(StatusCode::UNPROCESSABLE_ENTITY)
                }
                Err(err) => ErrorPage::from_error(&err),
            }
        }
        Err(err) => ErrorPage::from_error(&err),
    }
}

/// Replaces a group's tiers for one commission type; a refused value is shown
/// beside its row, with what was entered.
async fn set_rates(
    State(state): State<AppState>,
    Path((id, group)): Path<(i64, i64)>,
    Posted { operator, fields }: Posted,
) -> Response {
    let mut page = match CampaignPage::load(&state, operator.session, id).await {
        Ok(page) => page,
        Err(err) => return ErrorPage::from_error(&err),
    };
    let Some(forms) = page.groups.iter_mut().find(|g| g.id == group) else {
        return ErrorPage::response(StatusCode::NOT_FOUND, format!("campaign {id} has no group {group}"));
    };
    let mut form = RatesForm::posted(&fields);
    let saved = match form.request() {
        Ok(request) => campaigns::set_rates(&state.db, group, |currency| request.parse(currency), state.clock.now())
            .await
            .map(|_| ()),
        Err(err) => Err(err),
    };
    match saved {
        Ok(()) => Redirect::to(&format!("/console/campaigns/{id}#group-{group}")).into_response(),
        Err(err) if err.status_and_code().0.is_client_error() => {
            form.failed(&err);
            // The posted form replaces the one it came from.
            let at = forms.forms.iter().position(|f| f.stored && f.commission_type == form.commission_type);
            let at = at.unwrap_or(forms.forms.len() - 1);
            forms.forms[at] = form;
            page.respond(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(err) => ErrorPage::from_error(&err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::campaigns::GroupRates;

    #[test]
    fn rows_read_back_as_the_api_request_and_errors_land_on_their_row() {
        let entered: Vec<(String, String)> = [
            ("commission-type", "sale"),
            ("rule-1", "percent"),
            ("value-1", "10"),
            ("rule-2", "fixed"),
            ("value-2", ""),
            ("rule-3", "percent"),
            ("value-3", "150"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut form = RatesForm::posted(&entered);
        assert_eq!(form.rows.len(), 3);
        let err = form.request().and_then(|r| r.parse(upline_types::Currency::from_code("EUR").expect("EUR")));
        form.failed(&err.expect_err("150 % is refused"));
        assert!(form.rows[2].error.as_deref().is_some_and(|e| e.contains("between 0 and 100")));
        assert!(form.rows[0].error.is_none() && form.error.is_none());
    }

    #[test]
    fn a_stored_group_shows_its_tiers_then_empty_rows_and_a_form_for_another_type() {
        let tiers = serde_json::from_value(
            json!([{"tier": 1, "rule": {"percent": "10.50"}}, {"tier": 2, "rule": {"fixed": "2.00"}}]),
        )
        .expect("tiers");
        let rates = vec![GroupRates { commission_type: "sale".into(), tiers }];
        let group = Group { id: 1, name: "Default".into(), is_default: true, rates };
        let forms = GroupForms::of(&group);
        assert_eq!(forms.forms.len(), 2);
        let rows: Vec<(u32, &str, &str)> =
            forms.forms[0].rows.iter().map(|r| (r.tier, r.rule.as_str(), r.value.as_str())).collect();
        assert_eq!(
            rows,
            [(1, "percent", "10.5"), (2, "fixed", "2"), (3, "percent", ""), (4, "percent", ""), (5, "percent", "")]
        );
        assert_eq!(forms.forms[1].commission_type, "");
    }
}
