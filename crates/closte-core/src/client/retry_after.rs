//! `Retry-After` (RFC 9110 §10.2.3): either a number of seconds or an HTTP-date, in any of the
//! three date formats a recipient must accept. A number too large for 64 bits saturates (it
//! then certainly exceeds the longest wait the client does in-call); a date in the past means
//! "now"; anything else is ignored.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds to wait, from the header's value, relative to `now`.
pub fn parse(value: &str, now: SystemTime) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(value.parse::<u64>().unwrap_or(u64::MAX));
    }
    let at = http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(at.saturating_sub(now).max(0) as u64)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), an RFC 850 date
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) or an asctime date (`Sun Nov  6 08:49:37 1994`).
fn http_date(value: &str) -> Option<i64> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let (day, month, year, time) = match parts.as_slice() {
        [_, day, month, year, time, "GMT"] => (*day, *month, number(year)?, *time),
        [_, date, time, "GMT"] => {
            let mut d = date.split('-');
            let (day, month, year) = (d.next()?, d.next()?, number(d.next()?)?);
            // RFC 9110: a two-digit year more than 50 years in the future is in the past century.
            let year = if year < 70 {
                2000 + year
            } else if year < 100 {
                1900 + year
            } else {
                year
            };
            (day, month, year, *time)
        }
        [_, month, day, time, year] => (*day, *month, number(year)?, *time),
        _ => return None,
    };
    let day = number(day).filter(|d| (1..=31).contains(d))?;
    let month = MONTHS.iter().position(|m| *m == month)? as i64 + 1;
    let mut hms = time.split(':').map(number);
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    if hms.next().is_some() || h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

/// A date's number: one to four ASCII digits (RFC 9110 writes every part as 2DIGIT or 4DIGIT).
/// No sign (`+1` is not an hour: the whole date is then invalid, as the PHP implementation
/// decides too) and no longer run, so no year overflows the day count.
fn number(text: &str) -> Option<i64> {
    if (1..=4).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// 1994-11-06 08:49:37 UTC, the RFC's example.
    fn rfc_example() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(784_111_777)
    }

    /// The date as seconds since the epoch (relative to the epoch itself).
    fn at(value: &str) -> Option<u64> {
        parse(value, UNIX_EPOCH)
    }

    #[test]
    fn dates_land_on_their_second_across_leap_days_and_two_digit_years() {
        assert_eq!(at("Thu, 29 Feb 2024 00:00:00 GMT"), Some(1_709_164_800));
        assert_eq!(at("Tue, 01 Mar 2022 00:00:00 GMT"), Some(1_646_092_800));
        // RFC 850 two-digit years: 69 is 2069, 70 is 1970, 99 is 1999; 100 is the year 100.
        assert_eq!(at("Tuesday, 01-Jan-69 00:00:00 GMT"), Some(3_124_224_000));
        assert_eq!(at("Thursday, 01-Jan-70 00:00:01 GMT"), Some(1));
        assert_eq!(at("Friday, 31-Dec-99 23:59:59 GMT"), Some(946_684_799));
        assert_eq!(
            at("Monday, 01-Jan-100 00:00:00 GMT"),
            Some(0),
            "long past: now"
        );
    }

    #[test]
    fn the_time_of_day_accepts_a_leap_second_and_nothing_out_of_range() {
        assert_eq!(at("Thu, 01 Jan 1970 23:59:59 GMT"), Some(86_399));
        assert_eq!(at("Thu, 01 Jan 1970 23:59:60 GMT"), Some(86_400));
        for bad in ["24:00:00", "23:60:00", "23:59:61", "23:59", "23:59:59:00"] {
            assert_eq!(at(&format!("Thu, 01 Jan 1970 {bad} GMT")), None, "{bad}");
        }
    }

    #[test]
    fn seconds_are_read_and_saturate_past_64_bits() {
        assert_eq!(parse("120", rfc_example()), Some(120));
        assert_eq!(parse(" 0 ", rfc_example()), Some(0));
        assert_eq!(
            parse("99999999999999999999999", rfc_example()),
            Some(u64::MAX)
        );
    }

    #[test]
    fn all_three_date_formats_are_read_relative_to_now() {
        let now = rfc_example() - Duration::from_secs(90);
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(90));
        assert_eq!(parse("Sunday, 06-Nov-94 08:49:37 GMT", now), Some(90));
        assert_eq!(parse("Sun Nov  6 08:49:37 1994", now), Some(90));
    }

    #[test]
    fn a_date_in_the_past_means_now() {
        let later = rfc_example() + Duration::from_secs(3600);
        assert_eq!(parse("Sun, 06 Nov 1994 08:49:37 GMT", later), Some(0));
    }

    #[test]
    fn anything_else_is_ignored() {
        for bad in [
            "",
            "soon",
            "-5",
            "1.5",
            "Sun, 32 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 25:00:00 GMT",
        ] {
            assert_eq!(parse(bad, rfc_example()), None, "{bad}");
        }
    }

    #[test]
    fn every_number_of_a_date_is_one_to_four_digits_without_a_sign() {
        assert_eq!(at("Thu, 01 Jan 1970 1:2:3 GMT"), Some(3723));
        assert_eq!(at("Thu, 1 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(at("Thu, 02 Jan 1970 0000:00:00 GMT"), Some(86_400));
        for bad in [
            "Thu, 01 Jan 1970 +1:00:00 GMT",
            "Thu, 01 Jan 1970 01:-0:00 GMT",
            "Thu, 01 Jan 1970 01:00:+0 GMT",
            "Thu, 01 Jan 1970 00000:00:00 GMT",
            "Thu, 01 Jan 1970 :00:00 GMT",
            "Thu, +1 Jan 1970 00:00:00 GMT",
            "Thu, 01 Jan +1970 00:00:00 GMT",
            "Thu, 01 Jan 19700 00:00:00 GMT",
            "Thursday, 01-Jan-+70 00:00:00 GMT",
            "Thu Jan  1 00:00:00 +1970",
        ] {
            assert_eq!(parse(bad, rfc_example()), None, "{bad}");
        }
    }
}
