//! The SCIM 2.0 core (RFC 7643, RFC 7644): schemas, resource codec, filters, PATCH and errors.
//!
//! Nothing here knows about AWS or HTTP; everything is testable without a network.

pub mod bulk;
pub mod codec;
pub mod cursor;
pub mod datetime;
pub mod error;
pub mod filter;
pub mod ids;
pub mod json;
pub mod limits;
pub mod list;
pub mod patch;
pub mod roles;
pub mod schema;
pub mod scim11;
pub mod text;

pub use error::{ScimError, ScimType};
pub use roles::{PlatformRole, ProjectRole};
pub use text::fold;
