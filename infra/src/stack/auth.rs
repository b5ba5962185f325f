//! The Cognito user pool that signs callers in, its app client and the admin group.

use super::data::removal;
use super::physical_name;
use crate::cfn::cognito::{
    AccountRecoverySetting, AdminCreateUserConfig, AdvancedSecurityMode, DeletionProtection,
    ExplicitAuthFlow, MfaConfiguration, MfaMethod, PasswordPolicy, Policies,
    PreventUserExistenceErrors, RecoveryOption, TimeUnit, TokenValidityUnits, UserPool,
    UserPoolAddOns, UserPoolClient, UserPoolGroup, UserPoolTier, UsernameConfiguration,
};
use crate::cfn::{Ref, Resource, Template};
use crate::environment::{Environment, Mfa, ThreatProtection};
use tickets_manifest::ADMIN_GROUP;

/// Logical id of the user pool.
pub const USER_POOL: &str = "UserPool";
/// Logical id of the app client.
pub const USER_POOL_CLIENT: &str = "UserPoolClient";
/// Logical id of the admin group.
pub const ADMINS_GROUP: &str = "AdminsGroup";

/// Handles to the user pool and its app client.
pub struct Users {
    /// The pool.
    pub pool: Ref<UserPool>,
    /// The app client.
    pub client: Ref<UserPoolClient>,
}

/// Declares the pool, the app client and the admin group; the pool refuses deletion when
/// `deletion_protection`.
pub fn user_pool(
    template: &mut Template,
    environment: &Environment,
    deletion_protection: bool,
) -> Users {
    let users = &environment.users;
    let (mfa_configuration, enabled_mfas) = match users.mfa {
        Mfa::Off => (MfaConfiguration::Off, Vec::new()),
        // An authenticator app: SMS and email codes would need an SNS role or SES.
        Mfa::Optional => (
            MfaConfiguration::Optional,
            vec![MfaMethod::SoftwareTokenMfa],
        ),
        Mfa::Required => (MfaConfiguration::On, vec![MfaMethod::SoftwareTokenMfa]),
    };
    let security_mode = match users.threat_protection {
        ThreatProtection::Off => AdvancedSecurityMode::Off,
        ThreatProtection::Audit => AdvancedSecurityMode::Audit,
        ThreatProtection::Enforced => AdvancedSecurityMode::Enforced,
    };
    let pool = UserPool {
        user_pool_name: Some(physical_name("users")),
        // Users sign in with their email address, which Cognito verifies by sending a code.
        username_attributes: vec!["email".to_owned()],
        auto_verified_attributes: vec!["email".to_owned()],
        username_configuration: Some(UsernameConfiguration {
            case_sensitive: false,
        }),
        policies: Some(Policies {
            password_policy: PasswordPolicy {
                minimum_length: 12,
                require_lowercase: true,
                require_numbers: true,
                require_symbols: true,
                require_uppercase: true,
                temporary_password_validity_days: 7,
            },
        }),
        account_recovery_setting: Some(AccountRecoverySetting {
            recovery_mechanisms: vec![RecoveryOption {
                name: "verified_email".to_owned(),
                priority: 1,
            }],
        }),
        // The ticket desk is internal: administrators invite users, nobody signs up alone.
        admin_create_user_config: Some(AdminCreateUserConfig {
            allow_admin_create_user_only: true,
        }),
        // Prod always protects (the environment loader insists on `deletion_protection`),
        // from the first update on (see `first_creation`).
        deletion_protection: Some(if deletion_protection {
            DeletionProtection::Active
        } else {
            DeletionProtection::Inactive
        }),
        mfa_configuration: Some(mfa_configuration),
        enabled_mfas,
        user_pool_add_ons: Some(UserPoolAddOns {
            advanced_security_mode: security_mode,
        }),
        // Threat protection is a feature of the Plus plan; without it, the default plan.
        user_pool_tier: (security_mode != AdvancedSecurityMode::Off).then_some(UserPoolTier::Plus),
    };
    let pool = template.add(Resource::new(USER_POOL, pool).removal_policy(removal(environment)));

    let client = template.add(Resource::new(
        USER_POOL_CLIENT,
        UserPoolClient {
            client_name: Some(physical_name("app")),
            user_pool_id: pool.reference(),
            // Browsers and command-line tools cannot keep a secret.
            generate_secret: false,
            explicit_auth_flows: vec![
                ExplicitAuthFlow::AllowUserPasswordAuth,
                ExplicitAuthFlow::AllowUserSrpAuth,
                ExplicitAuthFlow::AllowRefreshTokenAuth,
            ],
            prevent_user_existence_errors: Some(PreventUserExistenceErrors::Enabled),
            enable_token_revocation: Some(true),
            // The API reads ID tokens; access tokens live as long.
            id_token_validity: Some(users.id_token_minutes.get()),
            access_token_validity: Some(users.id_token_minutes.get()),
            refresh_token_validity: Some(users.refresh_token_days.get()),
            token_validity_units: Some(TokenValidityUnits {
                id_token: TimeUnit::Minutes,
                access_token: TimeUnit::Minutes,
                refresh_token: TimeUnit::Days,
            }),
        },
    ));

    template.add(Resource::new(
        ADMINS_GROUP,
        UserPoolGroup {
            group_name: ADMIN_GROUP.to_owned(),
            user_pool_id: pool.reference(),
            description: Some("May delete tickets.".to_owned()),
        },
    ));
    Users { pool, client }
}
