//! The output cache's settings as values: which sides a build reads and
//! writes (`--cache`), where the shared one is (`cache-url`, `--cache-url`,
//! `--remote`) and how large the local one may grow (`cache-size`). Parsed
//! here, pure, for the decoder and the command line alike.

/// Whether a side is read (restored from) and written (stored to).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Access {
    pub(crate) read: bool,
    pub(crate) write: bool,
}

impl Access {
    pub(crate) const BOTH: Self = Self {
        read: true,
        write: true,
    };
    pub(crate) const OFF: Self = Self {
        read: false,
        write: false,
    };

    pub(crate) fn any(self) -> bool {
        self.read || self.write
    }
}

/// `--cache`: what each side may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Modes {
    pub(crate) local: Access,
    pub(crate) remote: Access,
}

/// The value `--cache` takes, for messages.
pub(crate) const MODES_HELP: &str = "`local`, `remote`, `both` or `off`, each side optionally `:r` (read only), `:w` (write only) or `:rw`, joined by commas: `--cache local,remote:r`";

/// Parses `local`, `remote:r`, `both`, `local,remote:r`, `off`…
pub(crate) fn parse_modes(text: &str) -> Result<Modes, String> {
    let mut modes = Modes {
        local: Access::OFF,
        remote: Access::OFF,
    };
    let text = text.trim();
    if matches!(text, "off" | "none") {
        return Ok(modes);
    }
    for part in text.split(',').map(str::trim) {
        let (side, access) = part.split_once(':').unwrap_or((part, "rw"));
        let access = match access {
            "rw" | "wr" => Access::BOTH,
            "r" => Access {
                read: true,
                write: false,
            },
            "w" => Access {
                read: false,
                write: true,
            },
            other => {
                return Err(format!(
                    "`{other}` in `{part}` is not an access; write `:r`, `:w` or `:rw`"
                ));
            }
        };
        match side {
            "local" => modes.local = access,
            "remote" => modes.remote = access,
            "both" => {
                modes.local = access;
                modes.remote = access;
            }
            other => return Err(format!("`{other}` is not a cache side; write {MODES_HELP}")),
        }
    }
    Ok(modes)
}

/// A shared cache's protocol, from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// The Bazel HTTP caching protocol at this base URL.
    Http(String),
    /// REAPI v2 at `grpc://host:port[/instance]`.
    Grpc(String),
}

impl Endpoint {
    /// `http(s)://host[:port]/prefix` or `grpc://host:port[/instance]`,
    /// whichever option (`--cache-url`, its alias `--remote`, the project's
    /// `cache-url`) gave it; anything else says what to write.
    pub(crate) fn parse(url: &str, option: &str) -> Result<Self, String> {
        let url = url.trim();
        // Messages show the URL without its credentials.
        let (shown, credentials) = split_credentials(url);
        if let Some(rest) = (url.strip_prefix("http://")).or_else(|| url.strip_prefix("https://")) {
            authority(&shown, rest, false)?;
            Ok(Self::Http(url.to_owned()))
        } else if let Some(rest) = url.strip_prefix("grpc://") {
            if credentials.is_some() {
                return Err(format!(
                    "`{shown}`: a grpc:// URL cannot carry credentials (they would not be sent); use the server's HTTPS cache, or a local proxy that adds them"
                ));
            }
            authority(&shown, rest, true)?;
            Ok(Self::Grpc(url.to_owned()))
        } else if url.starts_with("grpcs://") {
            Err(format!(
                "`{shown}`: TLS to a gRPC cache is not supported yet; reach it through a local TLS proxy at `grpc://127.0.0.1:PORT`, or use its HTTP cache with `https://`"
            ))
        } else {
            Err(format!(
                "`{shown}` is not a cache URL for `{option}`: write `http://host[:port]/prefix` (the Bazel HTTP cache protocol) or `grpc://host:port[/instance]` (REAPI)"
            ))
        }
    }

    /// The URL as messages show it, without credentials.
    pub(crate) fn shown(&self) -> String {
        match self {
            Self::Http(url) | Self::Grpc(url) => split_credentials(url).0,
        }
    }
}

/// Checks the part of a URL after its scheme: a host, a port that is a
/// number below 65536 (`needs_port`: there must be one), no spaces, no
/// query or fragment (a cache URL is a base that keys are appended to).
fn authority(shown: &str, rest: &str, needs_port: bool) -> Result<(), String> {
    if rest.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{shown}` holds a space or a control character"));
    }
    if rest.contains(['?', '#']) {
        return Err(format!(
            "`{shown}` has a query or a fragment: a cache URL is a base that keys are appended to"
        ));
    }
    let host_port = rest.split('/').next().unwrap_or_default();
    let host_port = host_port.rsplit_once('@').map_or(host_port, |(_, h)| h);
    // `[::1]:9092`: the port follows the bracket.
    let (host, port) = match host_port.strip_prefix('[') {
        Some(inner) => match inner.split_once(']') {
            Some((host, after)) => (host, after.strip_prefix(':')),
            None => return Err(format!("`{shown}` has an unclosed `[` in its host")),
        },
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return Err(format!("`{shown}` names no host"));
    }
    match port {
        Some(port) if port.parse::<u16>().is_err() => Err(format!(
            "`{shown}`: `{port}` is not a port (a number from 0 to 65535)"
        )),
        None if needs_port => Err(format!("`{shown}` has no port: write `grpc://host:port`")),
        _ => Ok(()),
    }
}

/// `scheme://user:pass@rest` → (`scheme://rest`, `Some("user:pass")`).
pub(crate) fn split_credentials(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let host_end = rest.find('/').unwrap_or(rest.len());
    match rest[..host_end].rsplit_once('@') {
        Some((credentials, host)) => (
            format!("{scheme}://{host}{}", &rest[host_end..]),
            Some(credentials.to_owned()),
        ),
        None => (url.to_owned(), None),
    }
}

/// The local cache's default limit.
pub(crate) const DEFAULT_SIZE: u64 = 5_000_000_000;

/// `5GB`, `500MB`, `2GiB`, `1048576`: bytes.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size; write one such as `5GB` or `500MB`"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "tb" | "t" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{other}` is not a size unit; write B, KB, MB, GB, TB (or KiB, MiB, GiB, TiB)"
            ));
        }
    };
    let bytes = (number * scale).round();
    if bytes < 1.0 {
        return Err(format!(
            "`{text}` keeps nothing: give a size, or turn the cache off with `--cache off`"
        ));
    }
    // 2^63 bytes, 9.2 EB: beyond any disk; a bigger number is a typo.
    if bytes >= 9.2e18 {
        return Err(format!(
            "`{text}` is more than any disk holds; write one such as `5GB`"
        ));
    }
    // Below 2^63 and whole: the cast is exact enough.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_name_each_side_and_its_access() {
        let r = Access {
            read: true,
            write: false,
        };
        assert_eq!(
            parse_modes("local,remote:r").unwrap(),
            Modes {
                local: Access::BOTH,
                remote: r
            }
        );
        assert_eq!(parse_modes("both").unwrap().remote, Access::BOTH);
        assert_eq!(parse_modes("remote:w").unwrap().local, Access::OFF);
        assert_eq!(parse_modes("off").unwrap().local, Access::OFF);
        assert!(parse_modes("remote:x").unwrap_err().contains(":r"));
        assert!(parse_modes("cloud").unwrap_err().contains("local"));
    }

    #[test]
    fn urls_choose_the_protocol() {
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:8080/c", "--cache-url"),
            Ok(Endpoint::Http("http://127.0.0.1:8080/c".into()))
        );
        assert_eq!(
            Endpoint::parse("grpc://127.0.0.1:50051/main", "--remote"),
            Ok(Endpoint::Grpc("grpc://127.0.0.1:50051/main".into()))
        );
        assert!(
            Endpoint::parse("grpc://host", "--remote")
                .unwrap_err()
                .contains("port")
        );
        assert!(
            Endpoint::parse("ftp://x", "--remote")
                .unwrap_err()
                .contains("http://")
        );
        assert!(
            Endpoint::parse("grpcs://x:1", "--remote")
                .unwrap_err()
                .contains("TLS")
        );
        assert_eq!(
            Endpoint::Http("https://u:p@h/x".into()).shown(),
            "https://h/x"
        );
        assert!(Endpoint::parse("http://[::1]:8080/c", "--cache-url").is_ok());
        assert!(Endpoint::parse("https://u:p@cache.example/x", "--cache-url").is_ok());
        for (bad, why) in [
            ("http://", "no host"),
            ("http://exa mple/", "space"),
            ("http://h/c?x=1", "query"),
            ("grpc://:1", "no host"),
            ("grpc://host:abc", "not a port"),
            ("grpc://h:99999", "not a port"),
            ("http://[::1/c", "unclosed"),
        ] {
            let error = Endpoint::parse(bad, "--cache-url").unwrap_err();
            assert!(error.contains(why), "{bad}: {error}");
        }
    }

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        assert_eq!(parse_size("5GB"), Ok(5_000_000_000));
        assert_eq!(parse_size("1.5 MB"), Ok(1_500_000));
        assert_eq!(parse_size("2GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5 parsecs").unwrap_err().contains("unit"));
        assert!(parse_size("0").unwrap_err().contains("keeps nothing"));
        assert!(parse_size("0.1B").unwrap_err().contains("keeps nothing"));
        assert!(
            parse_size("99999999999999999999TB")
                .unwrap_err()
                .contains("any disk")
        );
    }
}
