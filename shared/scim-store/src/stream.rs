//! The table's DynamoDB Streams records as Lambda delivers them, shared by the consumers that
//! derive something from committed changes: the audit trail ([`crate::audit`]) and the
//! provisioning events ([`crate::events`]).

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

/// Why a stream event could not be read. Lambda retries the batch (bisecting it) on an error.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("malformed stream event: {0}")]
    Malformed(String),
}

/// One DynamoDB Streams record as Lambda delivers it (`Records[i]` of the event).
#[derive(Debug, Clone, Deserialize)]
pub struct StreamRecord {
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// `INSERT`, `MODIFY` or `REMOVE`.
    #[serde(rename = "eventName")]
    pub event_name: String,
    pub dynamodb: StreamData,
}

/// The `dynamodb` part of a stream record (stream view type `NEW_AND_OLD_IMAGES`).
#[derive(Debug, Clone, Deserialize)]
pub struct StreamData {
    /// Epoch seconds (Lambda's event shape).
    #[serde(rename = "ApproximateCreationDateTime", default)]
    pub approximate_creation: Option<f64>,
    #[serde(rename = "NewImage", default)]
    pub new_image: Option<serde_dynamo::Item>,
    #[serde(rename = "OldImage", default)]
    pub old_image: Option<serde_dynamo::Item>,
    /// The record's position in its shard: what a consumer names in a batch item failure.
    #[serde(rename = "SequenceNumber", default)]
    pub sequence_number: Option<String>,
}

/// Just the `type` attribute, so other item shapes are skipped without being parsed.
#[derive(Debug, Deserialize)]
struct EntityType {
    #[serde(rename = "type", default)]
    entity: Option<String>,
}

/// The records of a whole Lambda event (`{"Records": [...]}`), in order.
pub fn records(event: &Value) -> Result<Vec<StreamRecord>, StreamError> {
    event
        .get("Records")
        .and_then(Value::as_array)
        .ok_or_else(|| StreamError::Malformed("no Records list".into()))?
        .iter()
        .map(|record| {
            serde_json::from_value(record.clone())
                .map_err(|e| StreamError::Malformed(format!("record: {e}")))
        })
        .collect()
}

impl StreamRecord {
    /// The item's `type` (from the new image, else the old), `None` when it has none.
    pub fn entity_type(&self) -> Option<String> {
        entity_type(self.dynamodb.new_image.as_ref())
            .or_else(|| entity_type(self.dynamodb.old_image.as_ref()))
    }

    /// The record's approximate creation time as RFC 3339 (for records without
    /// `last_modified`, such as an item removed outright).
    pub fn approximate_time(&self) -> Result<String, StreamError> {
        let seconds = self
            .dynamodb
            .approximate_creation
            .ok_or_else(|| StreamError::Malformed("no time on the record".into()))?;
        let nanos = (seconds * 1e9) as i128;
        let when = OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .map_err(|e| StreamError::Malformed(format!("ApproximateCreationDateTime: {e}")))?;
        Ok(scim_core::datetime::format(when))
    }
}

fn entity_type(item: Option<&serde_dynamo::Item>) -> Option<String> {
    let item = item?.clone();
    serde_dynamo::from_item::<_, EntityType>(item)
        .ok()
        .and_then(|t| t.entity)
}

/// Decodes an image into the item shape `T`.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    item: Option<&serde_dynamo::Item>,
    what: &str,
) -> Result<Option<T>, StreamError> {
    item.map(|i| {
        serde_dynamo::from_item(i.clone())
            .map_err(|e| StreamError::Malformed(format!("{what} image: {e}")))
    })
    .transpose()
}
