//! The Cognito user pool that signs callers in, its app client and the admin group.

use super::data::removal;
use super::physical_name;
use crate::cfn::cognito::{
    AccountRecoverySetting, AdminCreateUserConfig, DeletionProtection, ExplicitAuthFlow,
    PasswordPolicy, Policies, PreventUserExistenceErrors, RecoveryOption, UserPool, UserPoolClient,
    UserPoolGroup, UsernameConfiguration,
};
use crate::cfn::{Ref, Resource, Template};
use crate::environment::Environment;
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

/// Declares the pool, the app client and the admin group.
pub fn user_pool(template: &mut Template, environment: &Environment) -> Users {
    let protection = &environment.data_protection;
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
        // Prod always protects (the environment loader insists on `deletion_protection`).
        deletion_protection: Some(if protection.deletion_protection {
            DeletionProtection::Active
        } else {
            DeletionProtection::Inactive
        }),
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
