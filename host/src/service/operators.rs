//! Operator accounts for the merchant console: an e-mail and a password (Argon2id),
//! and browser sessions that last [`LIFETIME_HOURS`], end at logout and are stored
//! as the SHA-256 of their token. Each session has a CSRF token derived from its
//! own (secret) token, which every form of the console carries.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set, TransactionTrait};
use serde::Serialize;

use super::audit::json;
use super::operator_keys::hash;
use super::passwords::Passwords;
use crate::db::entity::{operator, operator_session};
use crate::domain::affiliate::{check_email, check_password, login_email};
use crate::error::{Error, Result};

/// How long a console session lasts.
pub const LIFETIME_HOURS: i64 = 12;

/// An operator account, as shown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Operator {
    /// Id.
    pub id: i64,
    /// Login e-mail.
    pub email: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<operator::Model> for Operator {
    fn from(row: operator::Model) -> Self {
        Self { id: row.id, email: row.email, created_at: row.created_at }
    }
}

/// A live console session: whose, and the token its forms carry.
#[derive(Debug, Clone)]
pub struct Session {
    /// The operator.
    pub operator: Operator,
    /// The CSRF token of the session's forms.
    pub csrf: String,
}

/// Creates an operator account (e-mail, password of 10 to 200 characters), audited
/// as done by `actor`; a 409 when the e-mail has an account.
pub async fn create(
    db: &DatabaseConnection,
    passwords: &Passwords,
    (email, password): (&str, &str),
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Operator> {
    let email = check_email("email", email)?;
    check_password("password", password)?;
    let password_hash = passwords.hash(password.to_owned()).await?;
    let txn = db.begin().await?;
    if operator::Entity::find().filter(operator::Column::Email.eq(&email)).one(&txn).await?.is_some() {
        return Err(Error::Conflict { field: "email".into(), message: format!("{email} has an operator account") });
    }
    let row = operator::ActiveModel {
        email: Set(email),
        password_hash: Set(password_hash),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let created = Operator::from(row);
    super::audit::record(&txn, now, actor, "operator.create", ("operator", created.id), None, Some(json(&created)))
        .await?;
    txn.commit().await?;
    Ok(created)
}

/// Logs an operator in: a new session token (a cookie's value). A wrong e-mail and a
/// wrong password get the same answer after the same work.
pub async fn login(
    db: &DatabaseConnection,
    passwords: &Passwords,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<String> {
    let found = operator::Entity::find().filter(operator::Column::Email.eq(login_email(email))).one(db).await?;
    let valid = passwords.verify(password.to_owned(), found.as_ref().map(|o| o.password_hash.clone())).await?;
    let operator = found.filter(|_| valid).ok_or(Error::Unauthorized("the e-mail or the password is wrong"))?;
    let token = hex::encode(rand::random::<[u8; 32]>());
    operator_session::ActiveModel {
        token_hash: Set(hash(&token)),
        operator_id: Set(operator.id),
        expires_at: Set(now + chrono::Duration::hours(LIFETIME_HOURS)),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// The live session of `token`.
pub async fn session(db: &DatabaseConnection, token: &str, now: DateTime<Utc>) -> Result<Session> {
    let expired = || Error::Unauthorized("the session is unknown or expired: log in again");
    let session = operator_session::Entity::find_by_id(hash(token))
        .one(db)
        .await?
        .filter(|s| s.expires_at > now)
        .ok_or_else(expired)?;
    let operator = operator::Entity::find_by_id(session.operator_id).one(db).await?.ok_or_else(expired)?;
    Ok(Session { operator: operator.into(), csrf: super::sessions::csrf_token(token) })
}

/// Ends the session of `token`.
pub async fn logout(db: &DatabaseConnection, token: &str) -> Result<()> {
    operator_session::Entity::delete_by_id(hash(token)).exec(db).await?;
    Ok(())
}

/// Removes sessions that expired before `now`; returns how many.
pub async fn remove_expired(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64> {
    let deleted =
        operator_session::Entity::delete_many().filter(operator_session::Column::ExpiresAt.lte(now)).exec(db).await?;
    Ok(deleted.rows_affected)
}
