//! The bulk function: wiring only; the door is in `scim-edge`, the rules in `scim-ops::bulk`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    scim_edge::lambda::run(scim_edge::Family::Bulk).await
}
