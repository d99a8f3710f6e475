//! Who a write is attributed to. Every user and group write carries the caller's token prefix
//! (`modified_by`) beside its timestamp; the audit trail is derived from those items through the
//! table's stream (see `scim_store::audit`), so the request path pays nothing extra for it.

use scim_store::Change;

use crate::app::Ctx;

impl Ctx {
    /// The stamp of this request's writes: its timestamp and the caller's token prefix.
    pub fn change(&self) -> Change<'_> {
        Change {
            at: &self.now,
            by: &self.principal.token_prefix,
        }
    }
}
