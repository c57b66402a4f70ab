//! Affiliate logins: e-mail and password for a session token that lasts a day.

use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::db::entity::{affiliate, session};
use crate::domain::affiliate::verify_password;
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

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Logs an affiliate in; records its first login. Wrong e-mail and wrong password
/// get the same answer.
pub async fn login(db: &DatabaseConnection, email: &str, password: &str) -> Result<Session> {
    let refused = Error::Unauthorized("the e-mail or the password is wrong");
    let found = affiliate::Entity::find()
        .filter(affiliate::Column::Email.eq(email.trim().to_lowercase()))
        .one(db)
        .await?
        .filter(|a| a.status == "active");
    let (hash_to_check, affiliate) = match found {
        Some(a) => (a.password_hash.clone(), Some(a)),
        // Verify against a dummy so unknown e-mails take as long as known ones.
        None => (crate::domain::affiliate::hash_password("timing-equaliser")?, None),
    };
    let password = password.to_owned();
    let valid = tokio::task::spawn_blocking(move || verify_password(&password, &hash_to_check))
        .await
        .map_err(|err| Error::Internal(err.to_string()))?;
    let affiliate = affiliate.filter(|_| valid).ok_or(refused)?;
    let token = hex::encode(rand::random::<[u8; 32]>());
    let expires_at = chrono::Utc::now() + chrono::Duration::hours(LIFETIME_HOURS);
    session::ActiveModel {
        token_hash: Set(hash(&token)),
        affiliate_id: Set(affiliate.id),
        expires_at: Set(expires_at),
    }
    .insert(db)
    .await?;
    if affiliate.first_login_at.is_none() {
        let mut first: affiliate::ActiveModel = affiliate.clone().into();
        first.first_login_at = Set(Some(chrono::Utc::now()));
        first.update(db).await?;
    }
    Ok(Session { token, affiliate: affiliate.id, expires_at })
}

/// The affiliate a bearer token belongs to, if the session is live.
pub async fn affiliate_of(db: &DatabaseConnection, token: &str) -> Result<i64> {
    session::Entity::find_by_id(hash(token))
        .one(db)
        .await?
        .filter(|s| s.expires_at > chrono::Utc::now())
        .map(|s| s.affiliate_id)
        .ok_or(Error::Unauthorized("the session is unknown or expired: log in again"))
}
