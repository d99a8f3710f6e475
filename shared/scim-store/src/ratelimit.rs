//! Per-token request counters shared by every Lambda instance: one item per token, shard and
//! second (`TOKEN#hmac#RATE#<shard>` / `RATE#<epoch second>`), removed by TTL. The operations
//! core decides the shards and each shard's part of the limit (`scim_ops::access`).
//!
//! An instance does not count each request here: it claims a *lease* of several requests for
//! the current second with one conditional UpdateItem and spends it locally (see the edge's
//! rate limiter). The condition keeps the sum of all leases of a second within the limit, so
//! the limit holds across any number of concurrent instances.

use std::collections::HashMap;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::types::AttributeValue;

use scim_ops::RateCounter;

use crate::error::{from_sdk, StoreError};
use crate::keys;
use crate::store::{key, n, Store};

/// Seconds a counter item outlives its window before DynamoDB's TTL may remove it.
const COUNTER_TTL_SECS: u64 = 120;

impl RateCounter for Store {
    /// Claims up to `want` requests (at least 1) of the `limit` allowed to this shard of the
    /// token's counter in the window `second`. Returns how many were granted: `want` when they
    /// fit, else 1 when one still fits, else 0 (the shard is used up for this second). One
    /// conditional UpdateItem, and a second one asking for 1 when `want` did not fit. Sent
    /// once, without the SDK's retries: a throttled or failing counter is the caller's to fall
    /// back from at once, not three backoffs later.
    async fn claim_rate(
        &self,
        token_hash: &str,
        shard: u32,
        second: u64,
        want: u32,
        limit: u32,
    ) -> Result<u32, StoreError> {
        let want = want.clamp(1, limit.max(1));
        let mut tries = vec![want];
        if want > 1 {
            tries.push(1);
        }
        for take in tries {
            let room = limit.saturating_sub(take);
            let out = self
                .client
                .update_item()
                .table_name(self.table.as_ref())
                .set_key(Some(key(
                    keys::rate_pk(token_hash, shard),
                    &keys::rate_sk(second),
                )))
                .update_expression("ADD used :take SET expires_at = :exp")
                .condition_expression("attribute_not_exists(used) OR used <= :room")
                .set_expression_attribute_values(Some(HashMap::from([
                    (":take".to_string(), n(u64::from(take))),
                    (":room".to_string(), n(u64::from(room))),
                    (
                        ":exp".to_string(),
                        AttributeValue::N((second + COUNTER_TTL_SECS).to_string()),
                    ),
                ])))
                .return_consumed_capacity(self.rcc())
                .customize()
                .config_override(
                    aws_sdk_dynamodb::config::Builder::default()
                        .retry_config(RetryConfig::standard().with_max_attempts(1)),
                )
                .send()
                .await;
            match out {
                Ok(out) => {
                    self.note_capacity(out.consumed_capacity());
                    return Ok(take);
                }
                Err(err) => match from_sdk(err) {
                    StoreError::VersionConflict => continue,
                    other => return Err(other),
                },
            }
        }
        Ok(0)
    }
}
