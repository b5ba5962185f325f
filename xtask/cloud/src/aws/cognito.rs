//! Users and ID tokens of a deployed stack's user pool, through the Cognito API
//! (`AdminCreateUser`, `AdminSetUserPassword`, group membership, `InitiateAuth`).

use super::cloudformation::Cfn;
use super::sdk;
use super::target::Target;
use anyhow::{Context, Result, bail};
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{AttributeType, AuthFlowType, MessageActionType};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use xtask_core::stack_name::Outputs;
use xtask_core::tools::workspace::root;

/// The group whose members may delete tickets.
const ADMIN_GROUP: &str = tickets_manifest::ADMIN_GROUP;

/// A deployed stack's user pool and app client.
pub struct DeployedPool {
    client: Client,
    /// The user pool id.
    pub pool_id: String,
    /// The app client id (no secret, `USER_PASSWORD_AUTH` enabled).
    pub client_id: String,
    /// The stack's outputs.
    pub outputs: Outputs,
}

impl DeployedPool {
    /// Finds the stack of `target` (from `.tickets/stacks/` or CloudFormation) and its pool.
    /// Recorded outputs that name a pool which no longer exists (the stack was re-created
    /// elsewhere) are read again from CloudFormation.
    pub async fn open(target: &Target) -> Result<Self> {
        let config_root = target.config_root.clone().unwrap_or_else(root);
        let environment = tickets_infra::Environment::load(&config_root, &target.env)
            .with_context(|| format!("reading environments/{}.yaml", target.env))?;
        let stack = target.stack()?;
        let config = sdk::config(environment.region.as_str()).await;
        let client = Client::new(&config);
        let refresh = || async {
            match Cfn::new(&config).describe(stack.as_str()).await? {
                Some(state) => {
                    stack.write_outputs(&state.outputs)?;
                    Ok(state.outputs)
                }
                None => bail!(
                    "stack {stack} does not exist: deploy it first with `cargo xtask deploy {}`",
                    target.flags()
                ),
            }
        };
        let Ok(recorded) = stack.read_outputs() else {
            return DeployedPool::from_outputs(client, refresh().await?, target);
        };
        let pool = DeployedPool::from_outputs(client.clone(), recorded, target)?;
        let described = client
            .describe_user_pool()
            .user_pool_id(&pool.pool_id)
            .send()
            .await;
        match described {
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                eprintln!(
                    "xtask: user pool {} in the recorded outputs of {stack} no longer exists; reading them again from CloudFormation",
                    pool.pool_id
                );
                DeployedPool::from_outputs(client, refresh().await?, target)
            }
            _ => Ok(pool),
        }
    }

    fn from_outputs(client: Client, outputs: Outputs, target: &Target) -> Result<Self> {
        let stack = target.stack()?;
        let output = |key: &str| {
            outputs.get(key).cloned().with_context(|| {
                format!(
                    "stack {stack} has no output {key}; refresh them with `cargo xtask outputs {}`",
                    target.flags()
                )
            })
        };
        Ok(DeployedPool {
            client,
            pool_id: output("UserPoolId")?,
            client_id: output("UserPoolClientId")?,
            outputs,
        })
    }

    /// Makes sure `user` exists with a fresh password and is in the admins group exactly
    /// when `admin`; returns the username and password.
    pub async fn ensure_user(&self, user: &str, admin: bool) -> Result<(String, String)> {
        // The pool signs users in by email.
        let username = if user.contains('@') {
            user.to_owned()
        } else {
            format!("{user}@example.com")
        };
        let created = self
            .client
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(&username)
            .message_action(MessageActionType::Suppress)
            .user_attributes(
                AttributeType::builder()
                    .name("email")
                    .value(&username)
                    .build()?,
            )
            .user_attributes(
                AttributeType::builder()
                    .name("email_verified")
                    .value("true")
                    .build()?,
            )
            .send()
            .await;
        if let Err(err) = created
            && !err
                .as_service_error()
                .is_some_and(|e| e.is_username_exists_exception())
        {
            return Err(sdk::explain(
                &format!("creating user {username} in pool {}", self.pool_id),
                err,
            ));
        }
        // The password is never stored: each call sets a new one.
        let password = generate_password()?;
        self.client
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(&username)
            .password(&password)
            .permanent(true)
            .send()
            .await
            .map_err(|e| sdk::explain(&format!("setting the password of {username}"), e))?;
        if admin {
            self.client
                .admin_add_user_to_group()
                .user_pool_id(&self.pool_id)
                .username(&username)
                .group_name(ADMIN_GROUP)
                .send()
                .await
                .map_err(|e| {
                    sdk::explain(&format!("adding {username} to group {ADMIN_GROUP}"), e)
                })?;
        } else {
            self.client
                .admin_remove_user_from_group()
                .user_pool_id(&self.pool_id)
                .username(&username)
                .group_name(ADMIN_GROUP)
                .send()
                .await
                .map_err(|e| {
                    sdk::explain(&format!("removing {username} from group {ADMIN_GROUP}"), e)
                })?;
        }
        Ok((username, password))
    }

    /// Signs in with `USER_PASSWORD_AUTH` and returns the ID token.
    pub async fn id_token(&self, username: &str, password: &str) -> Result<String> {
        let output = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map_err(|e| {
                sdk::explain(
                    &format!("signing in as {username} (the app client must allow ALLOW_USER_PASSWORD_AUTH)"),
                    e,
                )
            })?;
        if let Some(challenge) = output.challenge_name() {
            bail!(
                "signing in as {username} asked for a {} challenge; the user needs a permanent password",
                challenge.as_str()
            );
        }
        output
            .authentication_result()
            .and_then(|r| r.id_token())
            .map(str::to_owned)
            .with_context(|| format!("signing in as {username} returned no ID token"))
    }

    /// A user's ID token, creating the user on first use.
    pub async fn token_for(&self, user: &str, admin: bool) -> Result<String> {
        let (username, password) = self.ensure_user(user, admin).await?;
        self.id_token(&username, &password).await
    }

    /// Deletes a user (a missing user is not an error).
    pub async fn delete_user(&self, username: &str) -> Result<()> {
        match self
            .client
            .admin_delete_user()
            .user_pool_id(&self.pool_id)
            .username(username)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_user_not_found_exception()) =>
            {
                Ok(())
            }
            Err(err) => Err(sdk::explain(&format!("deleting user {username}"), err)),
        }
    }
}

/// 28 random characters plus one of each class Cognito's password policies can require.
fn generate_password() -> Result<String> {
    let mut bytes = [0u8; 21];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("the system random generator failed: {e}"))?;
    Ok(format!("{}aA1!", URL_SAFE_NO_PAD.encode(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_meet_every_policy_and_differ() {
        let (a, b) = (generate_password().unwrap(), generate_password().unwrap());
        assert_ne!(a, b);
        assert!(a.len() >= 32);
        assert!(
            a.chars().any(|c| c.is_ascii_lowercase()) && a.chars().any(|c| c.is_ascii_uppercase())
        );
        assert!(
            a.chars().any(|c| c.is_ascii_digit()) && a.chars().any(|c| !c.is_ascii_alphanumeric())
        );
    }
}
