//! Cognito user pool resource types.

use super::expr::Expr;
use super::resource::{Attribute, NoAttributes, ResourceInfo, ResourceType};
use serde::Serialize;

/// `AWS::Cognito::UserPool`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPool {
    /// Name (updatable in place).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pool_name: Option<Expr>,
    /// Attributes users sign in with instead of a user name (`email`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub username_attributes: Vec<String>,
    /// Attributes Cognito verifies by sending a code (`email`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auto_verified_attributes: Vec<String>,
    /// Whether sign-in names are case sensitive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username_configuration: Option<UsernameConfiguration>,
    /// Password rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policies: Option<Policies>,
    /// How users recover a forgotten password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_recovery_setting: Option<AccountRecoverySetting>,
    /// Who may create users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_create_user_config: Option<AdminCreateUserConfig>,
    /// Whether `DeleteUserPool` is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection: Option<DeletionProtection>,
    /// Whether users need a second factor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_configuration: Option<MfaConfiguration>,
    /// The second factors users may use (with MFA `ON` or `OPTIONAL`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enabled_mfas: Vec<MfaMethod>,
    /// Threat protection (formerly advanced security).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pool_add_ons: Option<UserPoolAddOns>,
    /// The feature plan; threat protection needs `PLUS`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pool_tier: Option<UserPoolTier>,
}

/// `MfaConfiguration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MfaConfiguration {
    /// No second factor.
    Off,
    /// Users may set one up.
    Optional,
    /// Every user signs in with one.
    On,
}

/// A second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MfaMethod {
    /// An authenticator app (TOTP): needs no SMS or email configuration.
    SoftwareTokenMfa,
}

/// `UserPoolAddOns`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolAddOns {
    /// What threat protection does with risky sign-ins.
    pub advanced_security_mode: AdvancedSecurityMode,
}

/// `AdvancedSecurityMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AdvancedSecurityMode {
    /// Off.
    Off,
    /// Detects and logs risks, blocks nothing.
    Audit,
    /// Blocks or challenges risky sign-ins, and compromised passwords.
    Enforced,
}

/// `UserPoolTier`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum UserPoolTier {
    /// The default plan.
    Essentials,
    /// Adds threat protection.
    Plus,
}

impl ResourceType for UserPool {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Cognito::UserPool",
        stateful: true,
        // Today's template reference lists no property whose change replaces a pool, but
        // Cognito refuses to change the sign-in options and case sensitivity of an existing
        // pool, so such an update fails ("Settings you can't change" in the Cognito guide).
        replaced_by: &[],
        not_updatable: &[
            "AliasAttributes",
            "UsernameAttributes",
            "UsernameConfiguration",
        ],
    };
    type Attribute = UserPoolAttribute;
}

/// Attributes of a user pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserPoolAttribute {
    /// The pool's ARN.
    Arn,
    /// `cognito-idp.<region>.amazonaws.com/<pool id>`.
    ProviderName,
    /// `https://cognito-idp.<region>.amazonaws.com/<pool id>`, the token issuer.
    ProviderUrl,
    /// The pool id (what `Ref` returns too).
    UserPoolId,
}

impl Attribute for UserPoolAttribute {
    fn name(self) -> &'static str {
        match self {
            UserPoolAttribute::Arn => "Arn",
            UserPoolAttribute::ProviderName => "ProviderName",
            UserPoolAttribute::ProviderUrl => "ProviderURL",
            UserPoolAttribute::UserPoolId => "UserPoolId",
        }
    }
}

/// `UsernameConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsernameConfiguration {
    /// `false`: `Alice@Example.com` and `alice@example.com` are the same user.
    pub case_sensitive: bool,
}

/// `Policies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Policies {
    /// Password rules.
    pub password_policy: PasswordPolicy,
}

/// `PasswordPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordPolicy {
    /// Minimum length.
    pub minimum_length: u32,
    /// At least one lower-case letter.
    pub require_lowercase: bool,
    /// At least one digit.
    pub require_numbers: bool,
    /// At least one symbol.
    pub require_symbols: bool,
    /// At least one upper-case letter.
    pub require_uppercase: bool,
    /// Days an administrator-set temporary password stays valid.
    pub temporary_password_validity_days: u32,
}

/// `AccountRecoverySetting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccountRecoverySetting {
    /// Recovery methods in order of preference.
    pub recovery_mechanisms: Vec<RecoveryOption>,
}

/// `RecoveryOption`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RecoveryOption {
    /// `verified_email`, `verified_phone_number` or `admin_only`.
    pub name: String,
    /// 1 is tried first.
    pub priority: u32,
}

/// `AdminCreateUserConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminCreateUserConfig {
    /// `true`: no self sign-up; administrators create users.
    pub allow_admin_create_user_only: bool,
}

/// `DeletionProtection`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DeletionProtection {
    /// `DeleteUserPool` is refused.
    Active,
    /// The pool can be deleted.
    Inactive,
}

/// `AWS::Cognito::UserPoolClient`: an app that signs users in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolClient {
    /// Name, shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<Expr>,
    /// The pool.
    pub user_pool_id: Expr,
    /// `false` for browser and CLI clients, which cannot keep a secret.
    pub generate_secret: bool,
    /// Authentication flows the client may use.
    pub explicit_auth_flows: Vec<ExplicitAuthFlow>,
    /// `ENABLED`: sign-in errors do not reveal whether a user exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prevent_user_existence_errors: Option<PreventUserExistenceErrors>,
    /// Whether refresh tokens can be revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_token_revocation: Option<bool>,
    /// How long ID tokens are valid, in `TokenValidityUnits.IdToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_validity: Option<u32>,
    /// How long access tokens are valid, in `TokenValidityUnits.AccessToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_validity: Option<u32>,
    /// How long refresh tokens are valid, in `TokenValidityUnits.RefreshToken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_validity: Option<u32>,
    /// The units of the three validities.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_validity_units: Option<TokenValidityUnits>,
}

/// `TokenValidityUnits`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TokenValidityUnits {
    /// Unit of `IdTokenValidity`.
    pub id_token: TimeUnit,
    /// Unit of `AccessTokenValidity`.
    pub access_token: TimeUnit,
    /// Unit of `RefreshTokenValidity`.
    pub refresh_token: TimeUnit,
}

/// A unit of token validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// Minutes.
    Minutes,
    /// Hours.
    Hours,
    /// Days.
    Days,
}

impl ResourceType for UserPoolClient {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Cognito::UserPoolClient",
        stateful: false,
        replaced_by: &["GenerateSecret", "UserPoolId"],
        not_updatable: &[],
    };
    type Attribute = UserPoolClientAttribute;
}

/// Attributes of a user pool client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserPoolClientAttribute {
    /// The client id (what `Ref` returns too).
    ClientId,
}

impl Attribute for UserPoolClientAttribute {
    fn name(self) -> &'static str {
        match self {
            UserPoolClientAttribute::ClientId => "ClientId",
        }
    }
}

/// An explicit authentication flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExplicitAuthFlow {
    /// User name and password sent to Cognito (over TLS): scripts and tests.
    AllowUserPasswordAuth,
    /// Secure Remote Password: browsers.
    AllowUserSrpAuth,
    /// Refreshing tokens.
    AllowRefreshTokenAuth,
}

/// `PreventUserExistenceErrors`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum PreventUserExistenceErrors {
    /// Generic errors.
    Enabled,
    /// Errors say when a user does not exist.
    Legacy,
}

/// `AWS::Cognito::UserPoolGroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolGroup {
    /// Name, carried in the `cognito:groups` claim.
    pub group_name: String,
    /// The pool.
    pub user_pool_id: Expr,
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ResourceType for UserPoolGroup {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Cognito::UserPoolGroup",
        stateful: false,
        replaced_by: &["GroupName", "UserPoolId"],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}
