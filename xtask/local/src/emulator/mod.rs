//! The stack on this machine, emulated from its rendered template, as `local`, `token`,
//! `smoke` and `bench` share it: the template reader ([`template`]), API Gateway
//! ([`gateway`]), the function's instances ([`instance`]) with the Lambda Runtime API they
//! pull invocations from ([`runtime_api`]) and their pools ([`instance_pool`], [`functions`]),
//! Cognito's tokens and authorizer ([`auth`]), DynamoDB ([`dynamo`]), the event path (the
//! stream's [`pipe`] into the [`bus`]) and the state folder they keep ([`state`]).

pub mod auth;
pub mod bus;
pub mod dynamo;
pub mod functions;
pub mod gateway;
pub mod instance;
pub mod instance_pool;
pub mod pipe;
mod runtime_api;
pub mod state;
pub mod template;
