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
}

impl AffiliateRequest {
    /// Checks the fields (e-mail shape, password of 10 to 200 characters) and hashes
    /// the password.
    pub fn parse(self) -> Result<NewAffiliate> {
        let email = self.email.trim().to_lowercase();
        let valid_email = email.len() <= 254
            && email.split_once('@').is_some_and(|(user, domain)| !user.is_empty() && domain.contains('.'))
            && !email.contains(char::is_whitespace);
        if !valid_email {
            return Err(invalid("email", "is not an e-mail address"));
        }
        if !(10..=200).contains(&self.password.chars().count()) {
            return Err(invalid("password", "must be 10 to 200 characters"));
        }
        Ok(NewAffiliate {
            name: name("name", &self.name)?,
            email,
            password_hash: hash_password(&self.password)?,
            parent: self.parent,
        })
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
