//! The attribute tables of RFC 7643 (sections 4, 7 and 8.7) plus the custom extension that
//! carries `platformRole`.
//!
//! One table serves three purposes so they can never drift apart: it validates and normalises
//! input ([`crate::codec`]), it drives filter and PATCH evaluation (case-exactness, types,
//! multi-valuedness), and it is what `/Schemas` serves ([`Schema::to_json`]).

use serde_json::{json, Map, Value};

use crate::limits::{MAX_EMAILS, MAX_NAME_CHARS, MAX_VALUES};

/// `urn:ietf:params:scim:schemas:core:2.0:User` (RFC 7643 section 4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// `urn:ietf:params:scim:schemas:core:2.0:Group` (RFC 7643 section 4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` (RFC 7643 section 4.3).
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The default URN of the custom extension carrying `platformRole`; a deployment parameter.
pub const DEFAULT_PLATFORM_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:platform:2.0:User";
/// Microsoft Entra sends this schema URN on group creation; it carries nothing we store.
pub const ENTRA_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// RFC 7643 section 2.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

impl AttributeType {
    fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Reference => "reference",
            Self::Complex => "complex",
            Self::Binary => "binary",
        }
    }
}

/// RFC 7643 section 7, `mutability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }
}

/// RFC 7643 section 7, `returned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }
}

/// RFC 7643 section 7, `uniqueness`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 section 7).
#[derive(Debug, Clone, Copy)]
pub struct AttributeDef {
    pub name: &'static str,
    pub ty: AttributeType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [AttributeDef],
    /// When set, input must be one of `canonical_values` (compared case-insensitively, stored in
    /// canonical spelling). RFC 7643 makes canonical values advisory; we enforce them only where
    /// the platform depends on the value (`platformRole`).
    pub strict_canonical: bool,
    /// Longest value in characters, when limited ([`crate::limits`]).
    pub max_length: Option<usize>,
    /// Most values of a multi-valued attribute ([`crate::limits`]).
    pub max_values: usize,
    /// Not part of the stored document (a group's `members` and a user's `groups` are items and
    /// sets of their own): neither counted in the document's size nor limited here; the
    /// operations bound the members of one request.
    pub stored_apart: bool,
}

impl AttributeDef {
    /// A single-valued, optional, readWrite, case-insensitive string.
    const fn string(name: &'static str, description: &'static str) -> Self {
        Self {
            name,
            ty: AttributeType::String,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
            strict_canonical: false,
            max_length: None,
            max_values: MAX_VALUES,
            stored_apart: false,
        }
    }

    const fn of_type(mut self, ty: AttributeType) -> Self {
        self.ty = ty;
        self
    }

    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::string(name, description).of_type(AttributeType::Boolean)
    }

    const fn complex(
        name: &'static str,
        description: &'static str,
        sub_attributes: &'static [AttributeDef],
    ) -> Self {
        let mut def = Self::string(name, description).of_type(AttributeType::Complex);
        def.sub_attributes = sub_attributes;
        def
    }

    const fn reference(
        name: &'static str,
        description: &'static str,
        reference_types: &'static [&'static str],
    ) -> Self {
        let mut def = Self::string(name, description).of_type(AttributeType::Reference);
        def.reference_types = reference_types;
        def.case_exact = true;
        def
    }

    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    const fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    const fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    const fn unique(mut self) -> Self {
        self.uniqueness = Uniqueness::Server;
        self
    }

    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    const fn strict(mut self) -> Self {
        self.strict_canonical = true;
        self
    }

    const fn max_length(mut self, chars: usize) -> Self {
        self.max_length = Some(chars);
        self
    }

    const fn max_values(mut self, values: usize) -> Self {
        self.max_values = values;
        self
    }

    const fn stored_apart(mut self) -> Self {
        self.stored_apart = true;
        self
    }

    /// The most values this attribute may hold, when it is multi-valued and limited here.
    pub fn value_limit(&self) -> Option<usize> {
        (self.multi_valued && !self.stored_apart).then_some(self.max_values)
    }

    /// The description `/Schemas` serves: the table's, with the attribute's limits.
    fn described(&self) -> String {
        let mut text = self.description.to_string();
        if let Some(chars) = self.max_length {
            text.push_str(&format!(" At most {chars} characters."));
        }
        if let Some(values) = self.value_limit() {
            text.push_str(&format!(" At most {values} values."));
        }
        text
    }

    /// The sub-attribute called `name`, compared case-insensitively (RFC 7643 section 2.1).
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|sub| sub.name.eq_ignore_ascii_case(name))
    }

    /// Whether a client may write this attribute.
    pub fn is_writable(&self) -> bool {
        !matches!(self.mutability, Mutability::ReadOnly)
    }

    /// The `/Schemas` representation of this attribute (RFC 7643 section 7).
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("name".into(), json!(self.name));
        out.insert("type".into(), json!(self.ty.as_str()));
        out.insert("multiValued".into(), json!(self.multi_valued));
        out.insert("description".into(), json!(self.described()));
        out.insert("required".into(), json!(self.required));
        if !self.sub_attributes.is_empty() {
            let subs: Vec<Value> = self.sub_attributes.iter().map(Self::to_json).collect();
            out.insert("subAttributes".into(), Value::Array(subs));
        }
        if !self.canonical_values.is_empty() {
            out.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        if self.ty != AttributeType::Complex && self.ty != AttributeType::Boolean {
            out.insert("caseExact".into(), json!(self.case_exact));
        }
        out.insert("mutability".into(), json!(self.mutability.as_str()));
        out.insert("returned".into(), json!(self.returned.as_str()));
        if self.ty != AttributeType::Complex && self.ty != AttributeType::Boolean {
            out.insert("uniqueness".into(), json!(self.uniqueness.as_str()));
        }
        if !self.reference_types.is_empty() {
            out.insert("referenceTypes".into(), json!(self.reference_types));
        }
        Value::Object(out)
    }
}

const TYPE_DESC: &str = "A label indicating the attribute's function.";
const PRIMARY_DESC: &str =
    "A Boolean value indicating the 'primary' or preferred attribute value for this attribute.";
const DISPLAY_DESC: &str = "A human-readable name, primarily used for display purposes.";

/// `value`, `display`, `type` and `primary`: the sub-attributes most multi-valued attributes share
/// (RFC 7643 section 2.4), with the given canonical `type` values.
macro_rules! multi_valued_subs {
    ($value_desc:expr, $types:expr) => {
        &[
            AttributeDef::string("value", $value_desc),
            AttributeDef::string("display", DISPLAY_DESC),
            AttributeDef::string("type", TYPE_DESC).canonical($types),
            AttributeDef::boolean("primary", PRIMARY_DESC),
        ]
    };
}

/// `id`, `externalId` and `meta` (RFC 7643 section 3.1); served as part of every resource schema's
/// attribute list is not customary, so they are kept apart and only used for validation.
pub static COMMON_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef::string(
        "id",
        "Unique identifier for the SCIM resource as defined by the service provider.",
    )
    .case_exact()
    .mutability(Mutability::ReadOnly)
    .returned(Returned::Always)
    .unique(),
    AttributeDef::string(
        "externalId",
        "Identifier of the resource as defined by the provisioning client.",
    )
    .case_exact()
    .max_length(MAX_NAME_CHARS),
    AttributeDef::complex(
        "meta",
        "Resource metadata.",
        &[
            AttributeDef::string(
                "resourceType",
                "The name of the resource type of the resource.",
            )
            .case_exact()
            .mutability(Mutability::ReadOnly),
            AttributeDef::string(
                "created",
                "The DateTime that the resource was added to the service provider.",
            )
            .of_type(AttributeType::DateTime)
            .mutability(Mutability::ReadOnly),
            AttributeDef::string(
                "lastModified",
                "The most recent DateTime that the details of this resource were updated.",
            )
            .of_type(AttributeType::DateTime)
            .mutability(Mutability::ReadOnly),
            AttributeDef::reference(
                "location",
                "The URI of the resource being returned.",
                &["uri"],
            )
            .mutability(Mutability::ReadOnly),
            AttributeDef::string("version", "The version of the resource being returned.")
                .case_exact()
                .mutability(Mutability::ReadOnly),
        ],
    )
    .mutability(Mutability::ReadOnly),
];

/// RFC 7643 section 4.1.
pub static USER_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef::string("userName", "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.")
        .required()
        .unique()
        .max_length(MAX_NAME_CHARS),
    AttributeDef::complex(
        "name",
        "The components of the user's real name.",
        &[
            AttributeDef::string("formatted", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
            AttributeDef::string("familyName", "The family name of the User, or last name in most Western languages."),
            AttributeDef::string("givenName", "The given name of the User, or first name in most Western languages."),
            AttributeDef::string("middleName", "The middle name(s) of the User."),
            AttributeDef::string("honorificPrefix", "The honorific prefix(es) of the User, or title in most Western languages."),
            AttributeDef::string("honorificSuffix", "The honorific suffix(es) of the User, or suffix in most Western languages."),
        ],
    ),
    AttributeDef::string("displayName", "The name of the User, suitable for display to end-users.").max_length(MAX_NAME_CHARS),
    AttributeDef::string("nickName", "The casual way to address the user in real life."),
    AttributeDef::reference("profileUrl", "A fully qualified URL pointing to a page representing the User's online profile.", &["external"]),
    AttributeDef::string("title", "The user's title, such as \"Vice President\"."),
    AttributeDef::string("userType", "Used to identify the relationship between the organization and the user."),
    AttributeDef::string("preferredLanguage", "Indicates the User's preferred written or spoken language."),
    AttributeDef::string("locale", "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
    AttributeDef::string("timezone", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
    AttributeDef::boolean("active", "A Boolean value indicating the User's administrative status."),
    AttributeDef::string("password", "The User's cleartext password. Accepted and never stored or returned.")
        .mutability(Mutability::WriteOnly)
        .returned(Returned::Never),
    AttributeDef::complex("emails", "Email addresses for the user.", multi_valued_subs!("Email address for the User.", &["work", "home", "other"])).multi().max_values(MAX_EMAILS),
    AttributeDef::complex("phoneNumbers", "Phone numbers for the User.", multi_valued_subs!("Phone number of the User.", &["work", "home", "mobile", "fax", "pager", "other"])).multi(),
    AttributeDef::complex("ims", "Instant messaging addresses for the User.", multi_valued_subs!("Instant messaging address for the User.", &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"])).multi(),
    AttributeDef::complex("photos", "URLs of photos of the User.", multi_valued_subs!("URL of a photo of the User.", &["photo", "thumbnail"])).multi(),
    AttributeDef::complex(
        "addresses",
        "A physical mailing address for this User.",
        &[
            AttributeDef::string("formatted", "The full mailing address, formatted for display or use with a mailing label."),
            AttributeDef::string("streetAddress", "The full street address component."),
            AttributeDef::string("locality", "The city or locality component."),
            AttributeDef::string("region", "The state or region component."),
            AttributeDef::string("postalCode", "The zip code or postal code component."),
            AttributeDef::string("country", "The country name component."),
            AttributeDef::string("type", TYPE_DESC).canonical(&["work", "home", "other"]),
            AttributeDef::boolean("primary", PRIMARY_DESC),
        ],
    )
    .multi(),
    AttributeDef::complex(
        "groups",
        "A list of groups to which the user belongs, either through direct membership or dynamic calculation.",
        &[
            AttributeDef::string("value", "The identifier of the User's group.").mutability(Mutability::ReadOnly),
            AttributeDef::reference("$ref", "The URI of the corresponding 'Group' resource to which the user belongs.", &["Group"]).mutability(Mutability::ReadOnly),
            AttributeDef::string("display", DISPLAY_DESC).mutability(Mutability::ReadOnly),
            AttributeDef::string("type", TYPE_DESC).canonical(&["direct", "indirect"]).mutability(Mutability::ReadOnly),
        ],
    )
    .multi()
    .mutability(Mutability::ReadOnly)
    .stored_apart(),
    AttributeDef::complex("entitlements", "A list of entitlements for the User that represent a thing the User has.", multi_valued_subs!("The value of an entitlement.", &[])).multi(),
    AttributeDef::complex("roles", "A list of roles for the User that collectively represent who the User is.", multi_valued_subs!("The value of a role.", &[])).multi(),
    AttributeDef::complex("x509Certificates", "A list of certificates issued to the User.", multi_valued_subs!("The value of an X.509 certificate.", &[])).multi(),
];

/// RFC 7643 section 4.3.
pub static ENTERPRISE_USER_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef::string("employeeNumber", "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization."),
    AttributeDef::string("costCenter", "Identifies the name of a cost center."),
    AttributeDef::string("organization", "Identifies the name of an organization."),
    AttributeDef::string("division", "Identifies the name of a division."),
    AttributeDef::string("department", "Identifies the name of a department."),
    AttributeDef::complex(
        "manager",
        "The User's manager.",
        &[
            AttributeDef::string("value", "The id of the SCIM resource representing the User's manager.").case_exact(),
            AttributeDef::reference("$ref", "The URI of the SCIM resource representing the User's manager.", &["User"]),
            AttributeDef::string("displayName", "The displayName of the User's manager.").mutability(Mutability::ReadOnly),
        ],
    ),
];

/// The roles a platform user can hold, in their canonical spelling (see [`crate::roles`]).
pub const PLATFORM_ROLES: &[&str] = crate::roles::PlatformRole::NAMES;

/// Project roles a group's members may get (EDITOR unless the deployment or tenant says).
pub const PROJECT_ROLES: &[&str] = crate::roles::ProjectRole::NAMES;

/// The custom extension: how an IdP tells the platform which role a user holds.
pub static PLATFORM_USER_ATTRIBUTES: &[AttributeDef] = &[AttributeDef::string(
    "platformRole",
    "The user's role on the platform: ADMIN, MEMBER or OPERATOR. MEMBER when not sent.",
)
.canonical(PLATFORM_ROLES)
.strict()];

/// RFC 7643 section 4.2.
pub static GROUP_ATTRIBUTES: &[AttributeDef] = &[
    AttributeDef::string(
        "displayName",
        "A human-readable name for the Group. Unique per tenant.",
    )
    .required()
    .unique()
    .max_length(MAX_NAME_CHARS),
    AttributeDef::complex(
        "members",
        "A list of members of the Group. Returned by GET /Groups/{id}; list and search \
         responses leave it out (read a group by id for its members), and `members.value eq` \
         is the only filter on it.",
        &[
            AttributeDef::string("value", "Identifier of the member of this Group.")
                .case_exact()
                .mutability(Mutability::Immutable),
            AttributeDef::reference(
                "$ref",
                "The URI corresponding to a SCIM resource that is a member of this Group.",
                &["User"],
            )
            .mutability(Mutability::Immutable),
            AttributeDef::string("display", DISPLAY_DESC).mutability(Mutability::ReadOnly),
            AttributeDef::string(
                "type",
                "A label indicating the type of resource, e.g., 'User'.",
            )
            .canonical(&["User"])
            .mutability(Mutability::Immutable),
        ],
    )
    .multi()
    .stored_apart(),
];

/// A schema as served by `/Schemas` (RFC 7643 section 7).
#[derive(Debug, Clone)]
pub struct Schema {
    pub id: String,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttributeDef],
}

impl Schema {
    /// The attribute called `name`, compared case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.attributes
            .iter()
            .find(|attr| attr.name.eq_ignore_ascii_case(name))
    }

    /// The `/Schemas/{id}` representation, with `meta.location` under `base_url`.
    pub fn to_json(&self, base_url: &str) -> Value {
        let attributes: Vec<Value> = self.attributes.iter().map(AttributeDef::to_json).collect();
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": attributes,
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{}", self.id),
            },
        })
    }
}

/// The two resource types this service provider offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    /// The resource type name (`meta.resourceType`, `/ResourceTypes/{id}`).
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }

    /// The endpoint below the base URL.
    pub fn endpoint(self) -> &'static str {
        match self {
            Self::User => "/Users",
            Self::Group => "/Groups",
        }
    }
}

/// A resource type with its core schema and extensions, resolved once per deployment (the
/// platform extension's URN is a deployment parameter).
#[derive(Debug, Clone)]
pub struct ResourceSchema {
    pub kind: ResourceKind,
    pub core: Schema,
    pub extensions: Vec<Schema>,
}

/// Where an attribute name resolved to: its schema (`None` for the core schema, whose attributes
/// are top-level keys) and its definition.
#[derive(Debug, Clone, Copy)]
pub struct ResolvedAttribute<'a> {
    /// The extension URN the attribute lives under, or `None` for the core schema.
    pub extension: Option<&'a str>,
    pub def: &'static AttributeDef,
}

impl ResourceSchema {
    /// The extension schema whose URN is `urn`, compared case-insensitively.
    pub fn extension(&self, urn: &str) -> Option<&Schema> {
        self.extensions
            .iter()
            .find(|schema| schema.id.eq_ignore_ascii_case(urn))
    }

    /// Whether `urn` names the core schema or one of the extensions.
    pub fn knows_schema(&self, urn: &str) -> bool {
        self.core.id.eq_ignore_ascii_case(urn) || self.extension(urn).is_some()
    }

    /// Resolves a top-level attribute of the core schema or of the common attributes.
    pub fn core_attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.core.attribute(name).or_else(|| {
            COMMON_ATTRIBUTES
                .iter()
                .find(|attr| attr.name.eq_ignore_ascii_case(name))
        })
    }

    /// Resolves `name` within the schema `urn` (core when `None`).
    pub fn resolve(&self, urn: Option<&str>, name: &str) -> Option<ResolvedAttribute<'_>> {
        match urn {
            None => self.core_attribute(name).map(|def| ResolvedAttribute {
                extension: None,
                def,
            }),
            Some(urn) if self.core.id.eq_ignore_ascii_case(urn) => {
                self.core_attribute(name).map(|def| ResolvedAttribute {
                    extension: None,
                    def,
                })
            }
            Some(urn) => {
                let schema = self.extension(urn)?;
                schema.attribute(name).map(|def| ResolvedAttribute {
                    extension: Some(schema.id.as_str()),
                    def,
                })
            }
        }
    }

    /// Splits a fully qualified attribute name such as
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department` into the schema URN
    /// and the attribute path after it (RFC 7644 section 3.10). Returns `None` when `path` does not
    /// start with a known schema URN.
    pub fn split_urn<'p>(&self, path: &'p str) -> Option<(&str, &'p str)> {
        std::iter::once(&self.core)
            .chain(self.extensions.iter())
            .filter_map(|schema| {
                let id = schema.id.as_str();
                let head = path.get(..id.len())?;
                let rest = path.get(id.len()..)?;
                if head.eq_ignore_ascii_case(id) {
                    if rest.is_empty() {
                        Some((id, rest))
                    } else {
                        rest.strip_prefix(':').map(|rest| (id, rest))
                    }
                } else {
                    None
                }
            })
            // the longest URN wins, so an extension URN that extends the core URN is preferred
            .max_by_key(|(id, _)| id.len())
    }

    /// Every schema URN a resource of this type may list in `schemas`.
    pub fn schema_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.core.id.as_str()).chain(self.extensions.iter().map(|s| s.id.as_str()))
    }
}

/// All schemas of one deployment: built once at start-up from the platform extension's URN.
#[derive(Debug, Clone)]
pub struct Schemas {
    pub user: ResourceSchema,
    pub group: ResourceSchema,
}

impl Schemas {
    /// The schemas with the custom extension under `platform_urn`.
    pub fn new(platform_urn: &str) -> Self {
        Self {
            user: ResourceSchema {
                kind: ResourceKind::User,
                core: Schema {
                    id: USER_SCHEMA.into(),
                    name: "User",
                    description: "User Account",
                    attributes: USER_ATTRIBUTES,
                },
                extensions: vec![
                    Schema {
                        id: ENTERPRISE_USER_SCHEMA.into(),
                        name: "EnterpriseUser",
                        description: "Enterprise User",
                        attributes: ENTERPRISE_USER_ATTRIBUTES,
                    },
                    Schema {
                        id: platform_urn.into(),
                        name: "PlatformUser",
                        description: "Platform attributes of a user: the platform role.",
                        attributes: PLATFORM_USER_ATTRIBUTES,
                    },
                ],
            },
            group: ResourceSchema {
                kind: ResourceKind::Group,
                core: Schema {
                    id: GROUP_SCHEMA.into(),
                    name: "Group",
                    description: "Group; each group is a project on the platform.",
                    attributes: GROUP_ATTRIBUTES,
                },
                extensions: Vec::new(),
            },
        }
    }

    /// The resource schema for `kind`.
    pub fn for_kind(&self, kind: ResourceKind) -> &ResourceSchema {
        match kind {
            ResourceKind::User => &self.user,
            ResourceKind::Group => &self.group,
        }
    }

    /// The URN of the custom extension that carries `platformRole`.
    pub fn platform_urn(&self) -> &str {
        self.user
            .extensions
            .iter()
            .find(|s| s.name == "PlatformUser")
            .map_or(DEFAULT_PLATFORM_SCHEMA, |s| s.id.as_str())
    }

    /// Every schema served by `/Schemas`, in a stable order.
    pub fn all(&self) -> impl Iterator<Item = &Schema> {
        [&self.user, &self.group]
            .into_iter()
            .flat_map(|rs| std::iter::once(&rs.core).chain(rs.extensions.iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_names_resolve_case_insensitively() {
        let schemas = Schemas::new(DEFAULT_PLATFORM_SCHEMA);
        let resolved = schemas.user.resolve(None, "USERNAME");
        assert_eq!(resolved.map(|r| r.def.name), Some("userName"));
        let ext = schemas.user.resolve(
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"),
            "Department",
        );
        assert_eq!(ext.map(|r| r.def.name), Some("department"));
        assert_eq!(ext.and_then(|r| r.extension), Some(ENTERPRISE_USER_SCHEMA));
    }

    #[test]
    fn split_urn_prefers_the_extension_over_the_core_prefix() {
        let schemas = Schemas::new(DEFAULT_PLATFORM_SCHEMA);
        let path = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value";
        assert_eq!(
            schemas.user.split_urn(path),
            Some((ENTERPRISE_USER_SCHEMA, "manager.value"))
        );
        assert_eq!(
            schemas
                .user
                .split_urn("urn:ietf:params:scim:schemas:core:2.0:User:userName"),
            Some((USER_SCHEMA, "userName"))
        );
        assert_eq!(schemas.user.split_urn("userName"), None);
    }

    #[test]
    fn schema_json_lists_platform_role_with_its_canonical_values() {
        let schemas = Schemas::new("urn:example:custom:1.0:User");
        let custom = schemas
            .all()
            .find(|s| s.id == "urn:example:custom:1.0:User")
            .map(|s| s.to_json("https://x/scim/v2"));
        let attrs = custom
            .as_ref()
            .and_then(|s| s["attributes"].as_array())
            .cloned()
            .unwrap_or_default();
        assert_eq!(attrs.len(), 1);
        assert_eq!(attrs[0]["name"], "platformRole");
        assert_eq!(
            attrs[0]["canonicalValues"],
            json!(["ADMIN", "MEMBER", "OPERATOR"])
        );
    }
}
