//! When a schedule runs: `daily HH:MM`, `weekdays HH:MM`, `weekends HH:MM` or
//! `once YYYY-MM-DD HH:MM`, in `QUNGUAN_TIMEZONE`.
//!
//! Times are wall-clock times in the zone, so a daily 08:00 stays at 08:00 across a
//! daylight-saving change. A time the clocks skip (02:30 on the night they spring forward
//! from 02:00 to 03:00) runs at the first moment after the gap (03:00); a time that happens
//! twice (the night they fall back) runs at the first.

use crate::message::fold;
use jiff::{
    Span, Timestamp, ZonedDateTime,
    civil::{Date, DateTime, Time, Weekday},
    tz::{AmbiguousOffset, TimeZone},
};

/// How far ahead a one-off may be.
pub const MAX_YEARS_AHEAD: i64 = 10;

/// How often, and at what time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Daily(Time),
    Weekdays(Time),
    Weekends(Time),
    Once(DateTime),
}

/// Why the words are not a rule; each names what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// No words, or not one of the four kinds.
    Kind(String),
    /// The time (or date) word is missing.
    MissingTime,
    /// `HH:MM` was expected.
    BadTime(String),
    /// `YYYY-MM-DD` was expected.
    BadDate(String),
}

/// The words that name each kind, English first.
const DAILY: [&str; 3] = ["daily", "每天", "每日"];
const WEEKDAYS: [&str; 2] = ["weekdays", "工作日"];
const WEEKENDS: [&str; 2] = ["weekends", "周末"];
const ONCE: [&str; 2] = ["once", "一次"];

impl Rule {
    /// Reads a rule from the start of `words`; returns it and the words after it.
    pub fn parse(words: &[String]) -> Result<(Rule, &[String]), RuleError> {
        let Some((kind, rest)) = words.split_first() else {
            return Err(RuleError::Kind(String::new()));
        };
        let kind_lower = fold(kind).to_lowercase();
        let is = |names: &[&str]| names.contains(&kind_lower.as_str());
        let (time_word, rest) = if is(&ONCE) {
            let (date, rest) = rest.split_first().ok_or(RuleError::MissingTime)?;
            let date = parse_date(date)?;
            let (time, rest) = rest.split_first().ok_or(RuleError::MissingTime)?;
            let time = parse_time(time)?;
            return Ok((Rule::Once(date.to_datetime(time)), rest));
        } else {
            rest.split_first().ok_or(RuleError::MissingTime)?
        };
        let time = parse_time(time_word)?;
        let rule = if is(&DAILY) {
            Rule::Daily(time)
        } else if is(&WEEKDAYS) {
            Rule::Weekdays(time)
        } else if is(&WEEKENDS) {
            Rule::Weekends(time)
        } else {
            return Err(RuleError::Kind(kind.clone()));
        };
        Ok((rule, rest))
    }

    /// Reads a rule as [`Rule::canonical`] wrote it (from the store).
    pub fn from_canonical(s: &str) -> Option<Rule> {
        let words: Vec<String> = s.split_whitespace().map(str::to_owned).collect();
        match Rule::parse(&words) {
            Ok((rule, [])) => Some(rule),
            _ => None,
        }
    }

    /// `daily 22:00`, `once 2026-12-24 18:00`: what the store keeps and lists show.
    pub fn canonical(&self) -> String {
        let hm = |t: &Time| format!("{:02}:{:02}", t.hour(), t.minute());
        match self {
            Rule::Daily(t) => format!("{} {}", DAILY[0], hm(t)),
            Rule::Weekdays(t) => format!("{} {}", WEEKDAYS[0], hm(t)),
            Rule::Weekends(t) => format!("{} {}", WEEKENDS[0], hm(t)),
            Rule::Once(dt) => format!("{} {} {}", ONCE[0], dt.date(), hm(&dt.time())),
        }
    }

    /// Whether it is a one-off more than [`MAX_YEARS_AHEAD`] after `now_ms` in `zone`
    /// (refused when it is made, rather than taken for a time that has passed: jiff's
    /// calendar ends in 9999).
    pub fn too_far_ahead(&self, now_ms: i64, zone: &TimeZone) -> bool {
        let Rule::Once(dt) = self else {
            return false;
        };
        let Ok(now) = Timestamp::from_millisecond(now_ms) else {
            return false;
        };
        let now = now.to_zoned_datetime(zone.clone()).datetime();
        now.checked_add(Span::new().years(MAX_YEARS_AHEAD))
            .is_ok_and(|limit| *dt > limit)
    }

    /// Whether it runs more than once.
    pub fn repeats(&self) -> bool {
        !matches!(self, Rule::Once(_))
    }

    /// The first run strictly after `after_ms` (epoch ms), in `zone`; `None` if there is
    /// none (a one-off whose time has passed).
    pub fn next_after(&self, after_ms: i64, zone: &TimeZone) -> Option<i64> {
        let after = Timestamp::from_millisecond(after_ms).ok()?;
        let at = |dt: DateTime| -> Option<i64> {
            let ms = instant(dt, zone)?.as_millisecond();
            (ms > after_ms).then_some(ms)
        };
        let (time, runs_on): (Time, fn(Weekday) -> bool) = match self {
            Rule::Once(dt) => return at(*dt),
            Rule::Daily(t) => (*t, |_| true),
            Rule::Weekdays(t) => (*t, |d| !is_weekend(d)),
            Rule::Weekends(t) => (*t, is_weekend),
        };
        // The zone's date now may be yesterday's of the run (or today's): look a day
        // back and eight ahead, which covers any weekday rule.
        let mut date = after
            .to_zoned_datetime(zone.clone())
            .date()
            .yesterday()
            .ok()?;
        for _ in 0..10 {
            if runs_on(date.weekday()) {
                if let Some(ms) = at(date.to_datetime(time)) {
                    return Some(ms);
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

/// The moment `dt` is in `zone`. A time the clocks skip is the first moment after the gap
/// (02:30 on a night 02:00 jumps to 03:00 is 03:00); a time that happens twice is its first
/// occurrence.
fn instant(dt: DateTime, zone: &TimeZone) -> Option<Timestamp> {
    let ambiguous = zone.to_ambiguous_timestamp(dt);
    match ambiguous.offset() {
        AmbiguousOffset::Gap { after, .. } => {
            // Read with the later offset, `dt` falls before the change; the change that
            // follows it is where the gap ends.
            let before_change = after.to_timestamp(dt).ok()?;
            Some(zone.following(before_change).next()?.timestamp())
        }
        _ => ambiguous.compatible().ok(),
    }
}

fn is_weekend(d: Weekday) -> bool {
    matches!(d, Weekday::Saturday | Weekday::Sunday)
}

/// `HH:MM` (or `H:MM`), 00:00 to 23:59.
fn parse_time(typed: &str) -> Result<Time, RuleError> {
    let bad = || RuleError::BadTime(typed.to_owned());
    let word = &fold(typed);
    let (h, m) = word.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str, max_len| {
        !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(h, 2) || m.len() != 2 || !digits(m, 2) {
        return Err(bad());
    }
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

/// `YYYY-MM-DD`.
fn parse_date(typed: &str) -> Result<Date, RuleError> {
    let bad = || RuleError::BadDate(typed.to_owned());
    let word = &fold(typed);
    let parts: Vec<&str> = word.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d): (i16, i8, i8) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    Date::new(y, m, d).map_err(|_| bad())
}

/// `2026-12-02 22:00` in `zone`, for replies and lists.
pub fn format_local(ms: i64, zone: &TimeZone) -> String {
    Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned_datetime(zone.clone()))
        .map(|z: ZonedDateTime| z.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn ms(s: &str, zone: &str) -> i64 {
        let dt: DateTime = s.parse().unwrap();
        dt.to_zoned_datetime(TimeZone::get(zone).unwrap())
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    fn next(rule: &str, after: &str, zone: &str) -> Option<String> {
        let tz = TimeZone::get(zone).unwrap();
        let rule = Rule::from_canonical(rule).unwrap();
        let at = rule.next_after(ms(after, zone), &tz)?;
        Some(format_local(at, &tz))
    }

    #[test]
    fn the_four_kinds_parse_and_leave_the_command() {
        let w = words("daily 22:00 /mute-all");
        let (rule, rest) = Rule::parse(&w).unwrap();
        assert_eq!(rule.canonical(), "daily 22:00");
        assert_eq!(rest, ["/mute-all"]);
        let w = words("工作日 8:05 /unmute-all");
        assert_eq!(Rule::parse(&w).unwrap().0.canonical(), "weekdays 08:05");
        let w = words("ＷＥＥＫＥＮＤＳ ２３：５９ /x");
        assert_eq!(Rule::parse(&w).unwrap().0.canonical(), "weekends 23:59");
        let w = words("WEEKENDS 00:00 /x");
        assert_eq!(Rule::parse(&w).unwrap().0.canonical(), "weekends 00:00");
        let w = words("once 2026-12-24 18:30 /rename 圣诞");
        let (rule, rest) = Rule::parse(&w).unwrap();
        assert_eq!(rule.canonical(), "once 2026-12-24 18:30");
        assert_eq!(rest, ["/rename", "圣诞"]);
        assert!(!rule.repeats());
    }

    #[test]
    fn wrong_rules_say_what_was_expected() {
        assert_eq!(
            Rule::parse(&words("hourly 10:00")).unwrap_err(),
            RuleError::Kind("hourly".into())
        );
        assert_eq!(
            Rule::parse(&words("daily")).unwrap_err(),
            RuleError::MissingTime
        );
        for bad in [
            "24:00", "22:60", "22", "2200", "22:0", "-1:00", "+1:00", "22:00:00",
        ] {
            assert_eq!(
                Rule::parse(&words(&format!("daily {bad}"))).unwrap_err(),
                RuleError::BadTime(bad.into()),
                "{bad}"
            );
        }
        assert_eq!(
            Rule::parse(&words("once 2026-02-30 10:00")).unwrap_err(),
            RuleError::BadDate("2026-02-30".into())
        );
        assert_eq!(
            Rule::parse(&words("once 2026-02-03")).unwrap_err(),
            RuleError::MissingTime
        );
    }

    #[test]
    fn the_next_run_is_strictly_later_and_in_the_zone() {
        let sh = "Asia/Shanghai";
        assert_eq!(
            next("daily 22:00", "2026-12-02 21:59", sh).unwrap(),
            "2026-12-02 22:00"
        );
        assert_eq!(
            next("daily 22:00", "2026-12-02 22:00", sh).unwrap(),
            "2026-12-03 22:00"
        );
        // 2026-12-04 is a Friday.
        assert_eq!(
            next("weekdays 08:00", "2026-12-04 09:00", sh).unwrap(),
            "2026-12-07 08:00"
        );
        assert_eq!(
            next("weekends 08:00", "2026-12-04 09:00", sh).unwrap(),
            "2026-12-05 08:00"
        );
        assert_eq!(
            next("weekends 08:00", "2026-12-06 09:00", sh).unwrap(),
            "2026-12-12 08:00"
        );
        assert_eq!(
            next("once 2026-12-24 18:30", "2026-12-02 09:00", sh).unwrap(),
            "2026-12-24 18:30"
        );
        assert_eq!(next("once 2026-12-24 18:30", "2026-12-24 18:30", sh), None);
    }

    #[test]
    fn a_one_off_more_than_ten_years_ahead_is_too_far_not_passed() {
        let sh = TimeZone::get("Asia/Shanghai").unwrap();
        let now = ms("2026-12-02 09:00", "Asia/Shanghai");
        let rule = |s: &str| Rule::from_canonical(s).unwrap();
        assert!(rule("once 9999-12-31 10:00").too_far_ahead(now, &sh));
        assert!(rule("once 2036-12-02 09:01").too_far_ahead(now, &sh));
        assert!(!rule("once 2036-12-02 09:00").too_far_ahead(now, &sh));
        assert!(!rule("once 2020-01-01 09:00").too_far_ahead(now, &sh));
        assert!(!rule("daily 09:00").too_far_ahead(now, &sh));
        assert!(rule("once 2036-12-02 09:00").next_after(now, &sh).is_some());
    }

    #[test]
    fn daylight_saving_keeps_the_wall_clock_time() {
        let ny = "America/New_York";
        let tz = TimeZone::get(ny).unwrap();
        // Clocks spring forward at 02:00 on 2026-03-08; 08:00 is still 08:00 local.
        assert_eq!(
            next("daily 08:00", "2026-03-07 09:00", ny).unwrap(),
            "2026-03-08 08:00"
        );
        let before = ms("2026-03-07 08:00", ny);
        let after = Rule::from_canonical("daily 08:00")
            .unwrap()
            .next_after(before, &tz)
            .unwrap();
        assert_eq!(after - before, 23 * 3_600_000, "that day has 23 hours");
        // 02:30 does not exist that night: it runs once, at 03:00, the first moment after
        // the gap (not moved by the gap's length, to 03:30).
        assert_eq!(
            next("daily 02:30", "2026-03-08 00:00", ny).unwrap(),
            "2026-03-08 03:00"
        );
        assert_eq!(
            next("daily 02:30", "2026-03-08 03:00", ny).unwrap(),
            "2026-03-09 02:30"
        );
        // Lord Howe Island moves its clocks by half an hour: 02:00 becomes 02:30.
        assert_eq!(
            next("daily 02:10", "2026-10-04 00:00", "Australia/Lord_Howe").unwrap(),
            "2026-10-04 02:30"
        );
        // 01:30 happens twice on 2026-11-01: it runs at the first, then the next day.
        let first = Rule::from_canonical("daily 01:30")
            .unwrap()
            .next_after(ms("2026-11-01 00:00", ny), &tz)
            .unwrap();
        let second = Rule::from_canonical("daily 01:30")
            .unwrap()
            .next_after(first, &tz)
            .unwrap();
        assert_eq!(format_local(second, &tz), "2026-11-02 01:30");
        assert_eq!(second - first, 25 * 3_600_000, "not again an hour later");
    }
}
