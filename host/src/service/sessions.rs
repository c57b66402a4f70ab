//! Affiliate logins: e-mail and password for a session token that lasts a day.
//! Sessions end at logout, everywhere at once on request, when the password changes
//! or the affiliate is suspended, and expired ones are removed.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set,
    TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::passwords::Passwords;
use crate::db::entity::{affiliate, session};
use crate::domain::affiliate::{AffiliateStatus, login_email};
use crate::error::{Error, Result};

const LIFETIME_HOURS: i64 = 24;

/// A new session.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Session {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    /// Whose.
    pub affiliate: i64,
    /// Until when.
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// The CSRF token of a browser session (an affiliate's or an operator's) whose
/// secret token is `token`: derived from it, so it needs no storage and cannot be
/// computed by another site.
pub fn csrf_token(token: &str) -> String {
    hex::encode(Sha256::new().chain_update(b"upline-csrf\0").chain_update(token.as_bytes()).finalize())
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The active affiliate whose login e-mail and password these are. Wrong e-mail and
/// wrong password get the same answer after the same work.
pub async fn check_credentials(
    db: &DatabaseConnection,
    passwords: &Passwords,
    email: &str,
    password: &str,
) -> Result<affiliate::Model> {
    let found = affiliate::Entity::find()
        .filter(affiliate::Column::Email.eq(login_email(email)))
        .one(db)
        .await?
        .filter(|a| a.status == AffiliateStatus::Active.as_str());
    let valid = passwords.verify(password.to_owned(), found.as_ref().map(|a| a.password_hash.clone())).await?;
    found.filter(|_| valid).ok_or(Error::Unauthorized("the e-mail or the password is wrong"))
}

/// Logs an affiliate in; records its first login. The session is written only if the
/// affiliate is still active with the password just checked, its row locked: a
/// suspension or a new password committed during the (slow) check wins, and one that
/// commits after ends this session with the others.
pub async fn login(
    db: &DatabaseConnection,
    passwords: &Passwords,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<Session> {
    let checked = check_credentials(db, passwords, email, password).await?;
    let txn = db.begin().await?;
    let affiliate = affiliate::Entity::find_by_id(checked.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .filter(|now| now.status == AffiliateStatus::Active.as_str() && now.password_hash == checked.password_hash)
        .ok_or(Error::Unauthorized("the e-mail or the password is wrong"))?;
    let token = hex::encode(rand::random::<[u8; 32]>());
    let expires_at = now + chrono::Duration::hours(LIFETIME_HOURS);
    session::ActiveModel {
        token_hash: Set(hash(&token)),
        affiliate_id: Set(affiliate.id),
        expires_at: Set(expires_at),
    }
    .insert(&txn)
    .await?;
    if affiliate.first_login_at.is_none() {
        let mut first: affiliate::ActiveModel = affiliate.clone().into();
        first.first_login_at = Set(Some(now));
        first.update(&txn).await?;
        // Commissions an approval plugin held until this login are approved with it.
        super::lifecycle::release_waiting(&txn, &[affiliate.id], upline_types::ApprovalEvent::AffiliateFirstLogin, now)
            .await?;
    }
    txn.commit().await?;
    Ok(Session { token, affiliate: affiliate.id, expires_at })
}

/// The affiliate a bearer token belongs to, if the session is live.
pub async fn affiliate_of(db: &DatabaseConnection, token: &str, now: DateTime<Utc>) -> Result<i64> {
    session::Entity::find_by_id(hash(token))
        .one(db)
        .await?
        .filter(|s| s.expires_at > now)
        .map(|s| s.affiliate_id)
        .ok_or(Error::Unauthorized("the session is unknown or expired: log in again"))
}

/// Ends the session of `token`.
pub async fn logout(db: &DatabaseConnection, token: &str) -> Result<()> {
    session::Entity::delete_by_id(hash(token)).exec(db).await?;
    Ok(())
}

/// Ends every session of the affiliate (log out everywhere, a new password, a
/// suspension); returns how many there were.
pub async fn revoke_all(db: &impl ConnectionTrait, affiliate_id: i64) -> Result<u64> {
    let deleted = session::Entity::delete_many().filter(session::Column::AffiliateId.eq(affiliate_id)).exec(db).await?;
    Ok(deleted.rows_affected)
}

/// Removes sessions that expired before `now`; returns how many.
pub async fn remove_expired(db: &DatabaseConnection, now: chrono::DateTime<chrono::Utc>) -> Result<u64> {
    let deleted = session::Entity::delete_many().filter(session::Column::ExpiresAt.lte(now)).exec(db).await?;
    Ok(deleted.rows_affected)
}
