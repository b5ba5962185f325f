//! The stack on this machine, emulated from its rendered template, as `local`, `token`,
//! `smoke` and `bench` share it: the template reader ([`template`]), API Gateway
//! ([`gateway`]), the Lambda Runtime API and the function's instances ([`runtime_api`],
//! [`functions`]), Cognito's tokens and authorizer ([`auth`]), DynamoDB ([`dynamo`]) and
//! the state folder they keep ([`state`]).

pub mod auth;
pub mod dynamo;
pub mod functions;
pub mod gateway;
pub mod runtime_api;
pub mod state;
pub mod template;
