//! RFC 3339 timestamps as SCIM uses them (`meta.created`, `meta.lastModified`).

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Parses an RFC 3339 date-time.
pub fn parse(text: &str) -> Result<OffsetDateTime, time::error::Parse> {
    OffsetDateTime::parse(text, &Rfc3339)
}

/// Formats an instant as RFC 3339 in UTC with millisecond precision.
pub fn format(instant: OffsetDateTime) -> String {
    let utc = instant.to_offset(time::UtcOffset::UTC);
    let millis = utc.millisecond();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        millis
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn formatted_timestamps_parse_back_to_the_same_millisecond() {
        let now = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let text = format(now);
        assert_eq!(text, "2023-11-14T22:13:20.123Z");
        assert_eq!(parse(&text).unwrap().unix_timestamp(), 1_700_000_000);
    }
}
