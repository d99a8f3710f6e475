//! SCIM Bulk (RFC 7644 section 3.7): the operations of one request, each through the same
//! operations as a request of its own (`execute`), with `bulkId` references resolved.
//!
//! - **Order.** Operations run in request order, except that one referring to a `bulkId` whose
//!   operation comes later waits until that one has run (RFC 7644 3.7.1 lets a client list them
//!   in any order). References that can never resolve answer 409: a cycle, a `bulkId` no
//!   operation creates, or one whose operation failed.
//! - **References** (`bulkId:<id>`) are replaced by the created resource's id wherever they
//!   appear: in the path and in any value of the data (a group's `members[].value`).
//! - **`failOnErrors`**: once that many operations have failed, no further operation runs, and
//!   the response lists those that did.
//! - **Each operation's own status** is in the response (`status` as a string, `location` and
//!   `version` on success, the SCIM error as `response` on failure), and the request answers
//!   200 whatever they were. Each operation is its own write: a failure leaves the earlier ones
//!   in place (Bulk is not a transaction, RFC 7644 3.7).

use std::collections::{BTreeMap, BTreeSet};

use scim_core::bulk::{
    bulk_reference, substitute_references, BulkEntry, BulkMethod, BulkOperation, BulkRequest,
    BulkResource, BULK_RESPONSE_SCHEMA,
};
use scim_core::ids::ResourceId;
use scim_core::list::Projection;
use scim_core::patch::PatchRequest;
use scim_core::schema::ResourceKind;
use scim_core::ScimError;
use serde_json::{json, Value};

use crate::operation::{Ctx, Operation, Outcome, ResourceOperation};
use crate::render::etag;
use crate::write::Precondition;
use crate::{GroupStore, Operations, UserStore};

/// What became of one operation.
struct Done {
    index: usize,
    status: u16,
    location: Option<String>,
    version: Option<u64>,
    error: Option<Value>,
}

impl<S: UserStore + GroupStore> Operations<S> {
    /// Runs a Bulk request (see the module's documentation) and answers the BulkResponse.
    pub(crate) async fn bulk(
        &self,
        ctx: &Ctx<'_>,
        request: BulkRequest,
    ) -> Result<Outcome, ScimError> {
        let entries = &request.operations;
        // Which operation creates each bulkId (a duplicate was refused by the parser).
        let creators: BTreeMap<&str, usize> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                e.operation
                    .as_ref()
                    .is_ok_and(|op| op.method == BulkMethod::Post)
            })
            .filter_map(|(i, e)| e.bulk_id.as_deref().map(|id| (id, i)))
            .collect();
        let mut created: BTreeMap<String, String> = BTreeMap::new();
        let mut failed: BTreeSet<String> = BTreeSet::new();
        let mut done: Vec<Done> = Vec::new();
        let mut pending: Vec<usize> = (0..entries.len()).collect();
        let mut errors = 0usize;
        let limit = request.fail_on_errors.unwrap_or(usize::MAX);
        'passes: while !pending.is_empty() {
            let mut waiting = Vec::new();
            let mut progressed = false;
            for index in pending {
                if errors >= limit {
                    break 'passes;
                }
                let entry = &entries[index];
                let outcome = match &entry.operation {
                    Err(e) => Err(e.clone()),
                    Ok(op) => {
                        let references = op.references();
                        let unresolvable = references
                            .iter()
                            .find(|id| failed.contains(*id) || !creators.contains_key(id.as_str()));
                        if let Some(id) = unresolvable {
                            Err(ScimError::Conflict(format!(
                                "bulkId `{id}` names no resource created by this request."
                            )))
                        } else if references.iter().any(|id| !created.contains_key(id)) {
                            waiting.push(index);
                            continue;
                        } else {
                            self.run(ctx, op, &created).await
                        }
                    }
                };
                progressed = true;
                let record = self.record(index, entry, outcome, ctx);
                match (&record.error, &entry.bulk_id) {
                    (Some(_), Some(id)) => {
                        failed.insert(id.clone());
                    }
                    (None, Some(id)) => {
                        if let Some(new_id) = record
                            .location
                            .as_deref()
                            .and_then(|l| l.rsplit('/').next())
                        {
                            created.insert(id.clone(), new_id.to_string());
                        }
                    }
                    _ => {}
                }
                if record.error.is_some() {
                    errors += 1;
                }
                done.push(record);
            }
            if !progressed {
                // What is left waits on itself: a cycle.
                for index in waiting {
                    if errors >= limit {
                        break;
                    }
                    let cycle = ScimError::Conflict(
                        "The bulkId references of this operation form a cycle.".into(),
                    );
                    let record = self.record(index, &entries[index], Err(cycle), ctx);
                    errors += 1;
                    done.push(record);
                }
                break;
            }
            pending = waiting;
        }
        let operations: Vec<Value> = done
            .iter()
            .map(|d| response_entry(&entries[d.index], d))
            .collect();
        Ok(Outcome::Bulk(json!({
            "schemas": [BULK_RESPONSE_SCHEMA],
            "Operations": operations,
        })))
    }

    /// One operation, its references replaced, through the operation it stands for.
    async fn run(
        &self,
        ctx: &Ctx<'_>,
        op: &BulkOperation,
        created: &BTreeMap<String, String>,
    ) -> Result<(Outcome, Option<ResourceId>), ScimError> {
        let resolve = |id: &str| created.get(id).cloned();
        let target = match &op.target {
            None => None,
            Some(t) => {
                let t = bulk_reference(t)
                    .and_then(resolve)
                    .unwrap_or_else(|| t.clone());
                Some(ResourceId::parse(&t).ok_or_else(|| not_found(op.resource))?)
            }
        };
        let mut data = op.data.clone().unwrap_or(Value::Null);
        substitute_references(&mut data, &resolve);
        let schema = match op.resource {
            BulkResource::Users => &self.schemas.user,
            BulkResource::Groups => &self.schemas.group,
        };
        let precondition = op
            .version
            .as_deref()
            .map_or_else(Precondition::none, Precondition::if_match);
        let projection = Projection::default();
        let operation = match (op.method, target.clone()) {
            (BulkMethod::Post, _) => ResourceOperation::Create {
                body: data,
                projection,
            },
            (BulkMethod::Put, Some(id)) => ResourceOperation::Replace {
                id,
                body: data,
                precondition,
                projection,
            },
            (BulkMethod::Patch, Some(id)) => ResourceOperation::Patch {
                id,
                patch: PatchRequest::parse(&data, schema)?,
                precondition,
                projection,
            },
            (BulkMethod::Delete, Some(id)) => ResourceOperation::Delete { id, precondition },
            // The parser gives every PUT, PATCH and DELETE a target.
            (_, None) => return Err(not_found(op.resource)),
        };
        let operation = match op.resource {
            BulkResource::Users => Operation::User(operation),
            BulkResource::Groups => Operation::Group(operation),
        };
        let outcome = Box::pin(self.execute(ctx, operation)).await?;
        Ok((outcome, target))
    }

    fn record(
        &self,
        index: usize,
        entry: &BulkEntry,
        outcome: Result<(Outcome, Option<ResourceId>), ScimError>,
        ctx: &Ctx<'_>,
    ) -> Done {
        let resource = entry
            .operation
            .as_ref()
            .map_or(BulkResource::Users, |op| op.resource);
        let location_of = |id: &ResourceId| format!("{}/{}/{id}", ctx.base_url, resource.as_str());
        match outcome {
            Ok((Outcome::Created(r), _)) => Done {
                index,
                status: 201,
                location: Some(r.location),
                version: Some(r.version),
                error: None,
            },
            Ok((Outcome::Ok(r), _)) => Done {
                index,
                status: 200,
                location: Some(r.location),
                version: Some(r.version),
                error: None,
            },
            Ok((_, target)) => Done {
                index,
                status: 204,
                location: target.as_ref().map(location_of),
                version: None,
                error: None,
            },
            Err(e) => Done {
                index,
                status: e.status(),
                location: None,
                version: None,
                error: Some(e.to_json()),
            },
        }
    }
}

fn not_found(resource: BulkResource) -> ScimError {
    crate::error::not_found(match resource {
        BulkResource::Users => ResourceKind::User,
        BulkResource::Groups => ResourceKind::Group,
    })
}

/// One entry of the BulkResponse's `Operations`.
fn response_entry(entry: &BulkEntry, done: &Done) -> Value {
    let mut out = json!({"method": entry.method, "status": done.status.to_string()});
    if let Some(id) = &entry.bulk_id {
        out["bulkId"] = json!(id);
    }
    if let Some(location) = &done.location {
        out["location"] = json!(location);
    }
    if let Some(version) = done.version {
        out["version"] = json!(etag(version));
    }
    if let Some(error) = &done.error {
        out["response"] = error.clone();
    }
    out
}
