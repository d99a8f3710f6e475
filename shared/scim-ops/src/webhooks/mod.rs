//! Signed webhooks: provisioning events POSTed to HTTPS endpoints outside AWS, signed per the
//! Standard Webhooks scheme, retried with backoff for hours, in order per resource.
//!
//! The path of an event: the events function ([`fanout`]) queues one delivery per endpoint that
//! wants the event on a FIFO queue, grouped by endpoint and resource; the webhooks function
//! ([`deliver`]) POSTs each, signed ([`signing`]), records the attempt in the delivery log, and
//! hides a failed one for its backoff or, past the retry window, moves it to the dead-letter
//! queue. No SCIM request waits for any of it. An endpoint may take the events as RFC 9967
//! Security Event Tokens instead ([`set`]). Endpoints ([`endpoint`]) are configured through
//! the admin library, per deployment or per tenant, and only public HTTPS URLs are accepted.

pub mod deliver;
pub mod endpoint;
pub mod fanout;
pub mod set;
pub mod signing;

pub use deliver::{
    BatchReport, Deliverer, DeliveryAttempt, DeliveryLog, DeliveryQueue, DeliveryRecord,
    DeliveryStatus, Now, QueuedMessage, RetryPolicy, WebhookSender,
};
pub use endpoint::{
    is_endpoint_id, is_public_address, new_endpoint_id, validate_url, PayloadFormat, UrlError,
    UrlPolicy, WebhookEndpoint,
};
pub use fanout::{
    enqueue, CachedEndpoints, EndpointDirectory, EventRef, QueuedDelivery, ToWebhook, WebhookQueue,
};
pub use set::{SetIssuer, SET_CONTENT_TYPE};
pub use signing::{signature_header, EndpointSecret, WebhookKey};
