//! The application: configuration, clients and schemas built once per cold start, and the one
//! request pipeline every function shares (size limit, routing, authentication, dispatch,
//! error mapping, logging).

use std::time::{Duration, Instant};

use scim_core::schema::Schemas;
use scim_core::ScimError;
use scim_ops::access::{Authenticator, RateLimiter};
use scim_ops::tokens::TokenHasher;
use scim_ops::{Ctx, Operations, Principal};
use scim_store::Store;

use crate::config::Config;
use crate::http::{Method, Request, Response};
use crate::routes::{Family, Route, Target, Version};

/// Everything a request may use, built once per cold start.
#[derive(Debug)]
pub struct App {
    pub config: Config,
    /// The operations core over the DynamoDB adapter (which also serves tokens and rate
    /// counters).
    pub ops: Operations<Store>,
    pub auth: Authenticator,
    pub limiter: RateLimiter,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    TokenKey(#[from] scim_store::tokens::KeyError),
}

impl App {
    /// Builds the app from the environment: one SDK config, one secret read, one store.
    pub async fn from_env() -> Result<Self, StartupError> {
        let config = Config::from_env()?;
        let (store, hasher) = load_store_and_key(&config).await?;
        Ok(Self::new(config, store, hasher))
    }

    pub fn new(config: Config, store: Store, hasher: TokenHasher) -> Self {
        let schemas = Schemas::new(&config.platform_schema_urn);
        let auth = Authenticator::new(hasher, Duration::from_secs(config.token_cache_seconds));
        let limiter = RateLimiter::new(config.rate_limit_per_second);
        let ops = Operations::new(store, schemas, config.default_project_role);
        Self {
            config,
            ops,
            auth,
            limiter,
        }
    }

    pub fn store(&self) -> &Store {
        &self.ops.store
    }

    pub fn schemas(&self) -> &Schemas {
        &self.ops.schemas
    }

    /// Handles one request for a function of `family`. Never fails: every error becomes a SCIM
    /// Error response.
    pub async fn handle(&self, family: Family, request: Request, request_id: &str) -> Response {
        let started = Instant::now();
        let calls_before = self.store().calls();
        let capacity_before = self.store().consumed_capacity();
        let mut marks = CallMarks::default();
        let route = Target::parse(&request.path);
        let outcome = self
            .dispatch(family, route.as_ref(), &request, &mut marks)
            .await;
        let (mut response, principal) = match outcome {
            Ok((response, principal)) => (response, principal),
            // Under `/scim/v1`, every refusal (an unknown path included) is in 1.1's form.
            Err((err, principal)) => match Version::of_path(&request.path) {
                Some((Version::V1, _)) => (crate::scim1::error(&err), principal),
                _ => (Response::error(&err), principal),
            },
        };
        if response.status == 405 {
            if let Ok(route) = route.as_ref() {
                response = response.with_header("allow", route.allowed_methods());
            }
        }
        // Token verification, the rate limit and the operation itself are counted apart:
        // verification is 0 on a warm cache, the rate limit about one claim per second per busy
        // instance, and the operation's count is what the data model decides.
        let calls_end = self.store().calls();
        let after_auth = marks.after_auth.unwrap_or(calls_end);
        let after_rate = marks.after_rate.unwrap_or(after_auth);
        let auth_calls = after_auth.saturating_sub(calls_before);
        let rate_calls = after_rate.saturating_sub(after_auth);
        let calls = calls_end.saturating_sub(after_rate);
        if self.config.expose_call_counts {
            response = response
                .with_header("x-scim-dynamodb-calls", calls.to_string())
                .with_header("x-scim-auth-dynamodb-calls", auth_calls.to_string())
                .with_header("x-scim-ratelimit-dynamodb-calls", rate_calls.to_string())
                // Capacity units DynamoDB reported for the whole request (token check included).
                .with_header(
                    "x-scim-dynamodb-capacity",
                    format!("{:.3}", self.store().consumed_capacity() - capacity_before),
                );
        }
        // The metrics of this line (crate::emf::REQUEST): counts are 0 or 1, so a metric's Sum
        // is the number of such requests. A 401 names the prefix of the token it refused
        // (when well-formed: the public part, never the secret), so an IdP stuck on a revoked
        // token shows up in the logs and the template's Contributor Insights rule.
        let status = response.status;
        let count = |yes: bool| u64::from(yes);
        let token_prefix = match &principal {
            Some(p) => Some(p.token_prefix.as_str()),
            None if status == 401 => request
                .bearer_token()
                .ok()
                .filter(|t| scim_ops::tokens::is_well_formed(t))
                .and_then(scim_ops::tokens::prefix_of),
            None => None,
        };
        tracing::info!(
            request_id,
            function = function_name(family),
            tenant = principal.as_ref().map(|p| p.tenant.as_str()),
            token_prefix,
            method = ?request.method,
            route = route.as_ref().map(Target::name).unwrap_or("unknown"),
            operation = route
                .as_ref()
                .map(|r| r.operation(request.method))
                .unwrap_or("unknown"),
            resource_id = route.as_ref().ok().and_then(|t| resource_id(&t.route)),
            status = response.status,
            dynamodb_calls = calls,
            auth_dynamodb_calls = auth_calls,
            ratelimit_dynamodb_calls = rate_calls,
            duration_ms = started.elapsed().as_millis() as u64,
            requests = 1u64,
            status_2xx = count((200..300).contains(&status)),
            status_4xx = count((400..500).contains(&status)),
            status_5xx = count(status >= 500),
            status_401 = count(status == 401),
            status_429 = count(status == 429),
            rate_limited = count(marks.rate_limited),
            // A verification that read no table is the cache's; one that read it (accepted,
            // refused or failed) is the table's; a missing or malformed token is neither.
            token_cache = count(marks.after_auth.is_some() && auth_calls == 0),
            token_table = count(auth_calls > 0),
            "request"
        );
        response
    }

    async fn dispatch(
        &self,
        family: Family,
        target: Result<&Target, &ScimError>,
        request: &Request,
        marks: &mut CallMarks,
    ) -> Result<(Response, Option<Principal>), (ScimError, Option<Principal>)> {
        let target = target.map_err(|e| (e.clone(), None))?;
        let route = &target.route;
        if target.family() != family {
            return Err((ScimError::NotFound("No such endpoint.".into()), None));
        }
        if !target.allows(request.method) || request.method == Method::Other {
            return Err((
                ScimError::MethodNotAllowed(format!(
                    "{} is not supported on {}.",
                    request.method.as_str(),
                    target.name()
                )),
                None,
            ));
        }
        if request.body.len() > self.config.max_payload_bytes {
            return Err((
                ScimError::PayloadTooLarge(format!(
                    "The request body exceeds {} bytes.",
                    self.config.max_payload_bytes
                )),
                None,
            ));
        }
        let now = scim_core::datetime::format(time::OffsetDateTime::now_utc());
        let token = request.bearer_token().map_err(|e| (e, None))?;
        let principal = self
            .auth
            .authenticate(self.store(), token, &now)
            .await
            .map_err(|e| (e, None))?;
        marks.after_auth = Some(self.store().calls());
        let admitted = self.limiter.admit(self.store(), &principal).await;
        marks.after_rate = Some(self.store().calls());
        marks.rate_limited = admitted.is_err();
        admitted.map_err(|e| (e, Some(principal.clone())))?;
        let Some(base_url) =
            request.base_url(self.config.public_base_url.as_deref(), target.version)
        else {
            tracing::error!("no public base URL: set SCIM_PUBLIC_BASE_URL outside API Gateway");
            return Err((ScimError::Internal, Some(principal)));
        };
        let result = match (family, route) {
            (Family::Discovery, route) if *route != Route::RootSearch => {
                crate::discovery::handle(self, &base_url, target)
            }
            _ => {
                let ctx = Ctx {
                    principal: &principal,
                    base_url: &base_url,
                    now,
                };
                let bulk_limit = self.config.bulk_max_operations;
                match target.version {
                    Version::V2 => {
                        match crate::scim2::operation(self.schemas(), route, request, bulk_limit) {
                            Ok(operation) => self
                                .ops
                                .execute(&ctx, operation)
                                .await
                                .map(crate::scim2::respond),
                            Err(err) => Err(err),
                        }
                    }
                    Version::V1 => match crate::scim1::operation(self.schemas(), route, request) {
                        Ok(operation) => self
                            .ops
                            .execute(&ctx, operation)
                            .await
                            .map(crate::scim1::respond),
                        Err(err) => Err(err),
                    },
                }
            }
        };
        match result {
            Ok(response) => Ok((response, Some(principal))),
            Err(err) => Err((err, Some(principal))),
        }
    }
}

/// What every HTTP function builds once per cold start: the SDK config, the token key (one
/// Secrets Manager read) and the store.
pub(crate) async fn load_store_and_key(
    config: &Config,
) -> Result<(Store, TokenHasher), StartupError> {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        // Pinned, not left to the SDK's defaults of the day: standard mode, 3 tries per call
        // with full-jitter backoff (under 1 s, then under 2 s), so a throttled call gives up
        // within ~3 s, well inside the 29 s function timeout; the client then gets 429/503
        // with Retry-After and retries the request itself (tests/tests/api/faults/).
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
        .load()
        .await;
    let secrets = aws_sdk_secretsmanager::Client::new(&sdk);
    let hasher = scim_store::tokens::load_hasher(&secrets, &config.token_key_secret_id).await?;
    let store = Store::new(&aws_sdk_dynamodb::Config::from(&sdk), config.table.clone());
    Ok((store, hasher))
}

/// Store call counts at the pipeline's stages, to attribute calls to each.
#[derive(Debug, Default)]
struct CallMarks {
    after_auth: Option<u64>,
    after_rate: Option<u64>,
    /// The rate limiter refused the request (429).
    rate_limited: bool,
}

/// The `function` dimension of the request metrics: bounded, and the same in every stack.
fn function_name(family: Family) -> &'static str {
    match family {
        Family::Users => "users",
        Family::Groups => "groups",
        Family::Discovery => "discovery",
        Family::Bulk => "bulk",
        Family::Token => "token",
    }
}

fn resource_id(route: &Route) -> Option<&str> {
    match route {
        Route::User(id) | Route::Group(id) => Some(id.as_str()),
        _ => None,
    }
}
