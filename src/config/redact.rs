//! The database URL as it may be shown in a message or a log: without its password, in
//! every form libpq and tokio-postgres accept one.

/// `raw` with every password replaced by `***`: the URL's `user:password@`, and any query
/// parameter whose name (percent-decoded, any case) contains `password` (`password`,
/// `PassWord`, `sslpassword`). A URL that does not parse is not shown past its scheme, as
/// where its password ends cannot be known. Anything else (a file path, a `key=value`
/// connection string) has the value of each `…password=` replaced.
pub fn without_password(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(url) => url_without_password(url),
        Err(_) => match raw.split_once("://") {
            Some((scheme, _)) => format!("{scheme}://… (not shown: it does not parse)"),
            None => pairs_without_password(raw),
        },
    }
}

fn is_password(name: &str) -> bool {
    name.to_ascii_lowercase().contains("password")
}

fn url_without_password(mut url: url::Url) -> String {
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query_pairs().any(|(name, _)| is_password(&name)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_password(&name) {
                    "***".into()
                } else {
                    value
                };
                (name.into_owned(), value.into_owned())
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// `text` with the value after each `password=` (any case, any prefix) replaced: up to
/// the closing quote of a quoted value, else up to the next space or `&`.
fn pairs_without_password(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut shown = String::with_capacity(text.len());
    let mut rest = 0;
    while let Some(found) = lower[rest..].find("password") {
        let key_end = rest + found + "password".len();
        let after = lower[key_end..].trim_start();
        if !after.starts_with('=') {
            shown.push_str(&text[rest..key_end]);
            rest = key_end;
            continue;
        }
        let value_start = text.len() - after.len() + 1;
        let value = &text[value_start..];
        let trimmed = value.trim_start();
        let value_len = match trimmed.strip_prefix('\'') {
            Some(quoted) => quoted.find('\'').map_or(trimmed.len(), |end| end + 2),
            None => trimmed
                .find(|c: char| c.is_whitespace() || c == '&')
                .unwrap_or(trimmed.len()),
        };
        let value_end = value_start + (value.len() - trimmed.len()) + value_len;
        shown.push_str(&text[rest..value_start]);
        shown.push_str("***");
        rest = value_end;
    }
    shown.push_str(&text[rest..]);
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    const PW: &str = "s3cr3t-PW";

    #[test]
    fn a_password_in_the_userinfo_or_the_query_is_hidden() {
        for (raw, want) in [
            (
                format!("postgres://q:{PW}@db:5432/qunguan?sslmode=require"),
                "postgres://q:***@db:5432/qunguan?sslmode=require",
            ),
            (
                format!("postgres://q@db/qunguan?password={PW}"),
                "postgres://q@db/qunguan?password=***",
            ),
            (
                format!("postgresql://q@db/qunguan?sslmode=disable&PASSWORD={PW}&x=1"),
                "postgresql://q@db/qunguan?sslmode=disable&PASSWORD=***&x=1",
            ),
            (
                format!("postgres://q@db/qunguan?pass%77ord={PW}&sslpassword={PW}"),
                "postgres://q@db/qunguan?password=***&sslpassword=***",
            ),
            (
                format!("mysql://q:{PW}@db:3306/q"),
                "mysql://q:***@db:3306/q",
            ),
            ("sqlite://qunguan.db".to_owned(), "sqlite://qunguan.db"),
            ("/data/q.db".to_owned(), "/data/q.db"),
        ] {
            assert_eq!(without_password(&raw), want, "{raw}");
        }
    }

    #[test]
    fn a_url_that_does_not_parse_is_not_shown() {
        for raw in [
            format!("postgres://q:{PW}@db:port/qunguan"),
            format!("postgres://q:{PW}/x@db/qunguan"),
            format!("postgres://q@db:port/qunguan?password={PW}"),
        ] {
            assert_eq!(
                without_password(&raw),
                "postgres://… (not shown: it does not parse)"
            );
        }
    }

    #[test]
    fn a_connection_string_shows_no_password() {
        assert_eq!(
            pairs_without_password(&format!("host=db password={PW} dbname=q")),
            "host=db password=*** dbname=q"
        );
        assert_eq!(
            pairs_without_password(&format!("host=db PassWord = '{PW} x' user=q")),
            "host=db PassWord =*** user=q"
        );
        assert_eq!(
            pairs_without_password(&format!("sslpassword={PW}&password={PW}")),
            "sslpassword=***&password=***"
        );
        assert_eq!(pairs_without_password("password"), "password");
        assert_eq!(pairs_without_password("my-password.db"), "my-password.db");
        assert_eq!(pairs_without_password("password="), "password=***");
    }
}
