//! Affiliates as clients create them: checked name, e-mail and password.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::Deserialize;

use super::campaign::{invalid, name};
use crate::error::{Error, Result};

/// A new affiliate as a client sends it; [`AffiliateRequest::parse`] checks it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schema(description = "A new affiliate.")]
pub struct AffiliateRequest {
    /// Display name, 1 to 200 characters.
    name: String,
    /// Login e-mail, unique.
    email: String,
    /// 10 to 200 characters.
    password: String,
    /// The recruiting affiliate.
    #[serde(default)]
    parent: Option<i64>,
    /// The affiliate's own customer reference in the merchant's shop, as the merchant
    /// sends a conversion's `customer` (1 to 200 characters): screen plugins compare
    /// the two to refuse commissions on the affiliate's own purchases.
    #[serde(default)]
    customer: Option<String>,
}

/// A checked new affiliate, its password already hashed.
#[derive(Debug, Clone)]
pub struct NewAffiliate {
    /// Display name.
    pub name: String,
    /// Login e-mail, lower-cased.
    pub email: String,
    /// Argon2id hash (PHC string).
    pub password_hash: String,
    /// The recruiting affiliate.
    pub parent: Option<i64>,
    /// Its own customer reference in the merchant's shop.
    pub customer: Option<String>,
}

impl AffiliateRequest {
    /// Checks the fields (e-mail shape, password of 10 to 200 characters), then hashes
    /// the password with `hash` (slow on purpose: the caller keeps it off the async
    /// workers).
    pub async fn parse<F: Future<Output = Result<String>>>(
        self,
        hash: impl FnOnce(String) -> F,
    ) -> Result<NewAffiliate> {
        let email = check_email("email", &self.email)?;
        check_password("password", &self.password)?;
        let name = name("name", &self.name)?;
        let customer = super::conversion::reference("customer", self.customer)?;
        let password_hash = hash(self.password).await?;
        Ok(NewAffiliate { name, email, password_hash, parent: self.parent, customer })
    }
}

/// A login e-mail (an affiliate's or an operator's) as stored: trimmed, lower-cased,
/// of the shape `user@domain.tld`.
pub fn check_email(field: &str, email: &str) -> Result<String> {
    let email = login_email(email);
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
        && !email.contains(char::is_whitespace);
    if valid { Ok(email) } else { Err(invalid(field, "is not an e-mail address")) }
}

/// An e-mail as logins compare it: trimmed and lower-cased.
pub fn login_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A new password: 10 to 200 characters.
pub fn check_password(field: &str, password: &str) -> Result<()> {
    if (10..=200).contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(invalid(field, "must be 10 to 200 characters"))
    }
}

/// Whether an affiliate may log in and refer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AffiliateStatus {
    /// Logs in, refers, earns.
    Active,
    /// Cannot log in (its sessions are revoked) and its links record no clicks.
    Suspended,
}

impl AffiliateStatus {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            AffiliateStatus::Active => "active",
            AffiliateStatus::Suspended => "suspended",
        }
    }
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| Error::Internal(format!("hashing a password: {err}")))
}

/// True when `password` matches the stored hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_and_verified() {
        let hash = hash_password("correct horse battery").expect("hash");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
    }
}
