//! The cookies: the refresh cookie (`SameSite=Strict`, read only by the refresh and
//! log-out endpoints), the device cookie, and the browser session cookie
//! (`SameSite=Lax`, so a link from another site opens pages signed in; read only when
//! rendering pages, never by an endpoint that changes anything): their attributes,
//! reading them back, and the `Origin` check that keeps other sites from using the
//! refresh cookie (CSRF) on the endpoints that accept it.

use crate::server::building_blocks::{
    device_cookie::DEVICE_LIFETIME_SECS, refresh_token::RefreshToken,
};
use axum_extra::extract::cookie::CookieJar;
use cookie::{time::Duration, Cookie, SameSite};
use http::{header, HeaderMap, HeaderValue};

/// How the refresh cookie is set and who may present it.
#[derive(Debug, Clone)]
pub struct CookiePolicy {
    /// `Secure` with the `__Host-` prefix (else a plain name, for http development).
    pub secure: bool,
    /// Origins allowed on the cookie endpoints; empty: the request's own host.
    pub allowed_origins: Vec<String>,
}

/// Why a request may not use the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error("the request has no Origin header")]
    Missing,
    #[error("the request comes from another origin")]
    Foreign,
}

impl CookiePolicy {
    /// `__Host-` binds the cookie to this exact host (no `Domain`, `Path=/`, `Secure`), so
    /// a sibling subdomain cannot plant its own. (The prefix requires `Path=/`; the
    /// cookie is `HttpOnly` and only the refresh and logout endpoints read it.)
    pub fn name(&self) -> &'static str {
        if self.secure {
            "__Host-keyhold-refresh"
        } else {
            "keyhold-refresh"
        }
    }

    /// The device cookie's name (`building_blocks/device_cookie.rs`): the same attributes.
    pub fn device_name(&self) -> &'static str {
        if self.secure {
            "__Host-keyhold-device"
        } else {
            "keyhold-device"
        }
    }

    /// The browser session cookie's name (`session_cookie.rs`): the same attributes
    /// but `SameSite=Lax`.
    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-keyhold-session"
        } else {
            "keyhold-session"
        }
    }

    /// `Set-Cookie` for `token`, living until `expires_at` (unix seconds).
    pub fn set(&self, token: &RefreshToken, expires_at: i64, now: i64) -> HeaderValue {
        let max_age = (expires_at - now).max(0);
        self.header(self.name(), token.value(), max_age, SameSite::Strict)
    }

    /// `Set-Cookie` that removes the cookie.
    pub fn clear(&self) -> HeaderValue {
        self.header(self.name(), String::new(), 0, SameSite::Strict)
    }

    /// `Set-Cookie` for a device cookie.
    pub fn set_device(&self, value: String) -> HeaderValue {
        let name = self.device_name();
        self.header(name, value, DEVICE_LIFETIME_SECS, SameSite::Strict)
    }

    /// `Set-Cookie` for the browser session cookie `value`, living as long as the
    /// session at most (`expires_at`, unix seconds).
    pub fn set_session(&self, value: String, expires_at: i64, now: i64) -> HeaderValue {
        let max_age = (expires_at - now).max(0);
        self.header(self.session_name(), value, max_age, SameSite::Lax)
    }

    /// `Set-Cookie` that removes the browser session cookie.
    pub fn clear_session(&self) -> HeaderValue {
        self.header(self.session_name(), String::new(), 0, SameSite::Lax)
    }

    /// The browser session cookie's value in the request, if present.
    pub fn read_session(&self, headers: &HeaderMap) -> Option<String> {
        read(headers, self.session_name())
    }

    /// The device cookie's value in the request, if present.
    pub fn read_device(&self, headers: &HeaderMap) -> Option<String> {
        read(headers, self.device_name())
    }

    fn header(
        &self,
        name: &'static str,
        value: String,
        max_age: i64,
        same_site: SameSite,
    ) -> HeaderValue {
        let cookie = Cookie::build((name, value))
            .path("/")
            .max_age(Duration::seconds(max_age))
            .http_only(true)
            .same_site(same_site)
            .secure(self.secure)
            .build();
        // Only URL-safe token characters and fixed text: always a valid header value.
        HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// The cookie's value in the request, if present.
    pub fn read(&self, headers: &HeaderMap) -> Option<String> {
        read(headers, self.name())
    }

    /// Whether the request's `Origin` is allowed to use the cookie. `authority` is the
    /// request URI's (HTTP/2 `:authority`), used when there is no `Host` header. A
    /// browser that sends `Origin: null` (a form post under the pages' `Referrer-Policy:
    /// no-referrer`) or none speaks for itself with `Sec-Fetch-Site: same-origin`, a
    /// header no page can set.
    pub fn check_origin(
        &self,
        headers: &HeaderMap,
        authority: Option<&str>,
    ) -> Result<(), OriginError> {
        let stated = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        if matches!(stated, None | Some("null")) && fetch_site == Some("same-origin") {
            return Ok(());
        }
        let origin = headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .filter(|v| *v != "null")
            .ok_or(OriginError::Missing)?
            .trim_end_matches('/')
            .to_ascii_lowercase();
        let allowed = if self.allowed_origins.is_empty() {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .or(authority)
                .map(str::to_ascii_lowercase);
            host.is_some_and(|host| self.own_origins(&host).contains(&origin))
        } else {
            self.allowed_origins.contains(&origin)
        };
        if allowed {
            Ok(())
        } else {
            Err(OriginError::Foreign)
        }
    }
}

impl CookiePolicy {
    /// The origins of this host, scheme included: `https` when cookies are `Secure` (a
    /// plain-http page of the same host, which anyone on the network can write, is
    /// another origin), `http` otherwise. A loopback host is also reachable over http:
    /// browsers treat it as a secure context.
    fn own_origins(&self, host: &str) -> Vec<String> {
        let loopback = is_loopback(host);
        let mut origins = Vec::with_capacity(2);
        if self.secure {
            origins.push(format!("https://{host}"));
        }
        if !self.secure || loopback {
            origins.push(format!("http://{host}"));
        }
        origins
    }
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|cookie| cookie.value().trim().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn policy(origins: &[&str]) -> CookiePolicy {
        CookiePolicy {
            secure: true,
            allowed_origins: origins.iter().map(|o| o.to_string()).collect(),
        }
    }

    #[test]
    fn cookie_attributes() {
        let token = RefreshToken::generate();
        let set = policy(&[]).set(&token, 1_000, 400);
        let text = set.to_str().unwrap();
        assert!(text.starts_with(&format!("__Host-keyhold-refresh={}", token.value())));
        for attribute in [
            "Path=/",
            "Max-Age=600",
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
        ] {
            assert!(text.contains(attribute), "{attribute} in {text}");
        }
        assert!(!text.contains("Domain"));
        let dev = CookiePolicy {
            secure: false,
            allowed_origins: vec![],
        };
        let text = dev.clear();
        let text = text.to_str().unwrap();
        assert!(text.starts_with("keyhold-refresh=;") && text.contains("Max-Age=0"));
        assert!(!text.contains("Secure"));
    }

    #[test]
    fn session_cookie_attributes() {
        let set = policy(&[]).set_session("abc.def".into(), 1_000, 400);
        let text = set.to_str().unwrap();
        assert!(text.starts_with("__Host-keyhold-session=abc.def"), "{text}");
        for attribute in [
            "Path=/",
            "Max-Age=600",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
        ] {
            assert!(text.contains(attribute), "{attribute} in {text}");
        }
        assert!(!text.contains("Domain"));
        let cleared = policy(&[]).clear_session();
        assert!(cleared.to_str().unwrap().contains("Max-Age=0"));
        let h = headers(&[(
            "cookie",
            "__Host-keyhold-session=abc.def; keyhold-session=x",
        )]);
        assert_eq!(policy(&[]).read_session(&h).as_deref(), Some("abc.def"));
    }

    #[test]
    fn reads_its_own_cookie_only() {
        let p = policy(&[]);
        let h = headers(&[
            ("cookie", "a=1; keyhold-refresh=plain"),
            ("cookie", "__Host-keyhold-refresh=abc.def; b=2"),
        ]);
        assert_eq!(p.read(&h).as_deref(), Some("abc.def"));
        assert_eq!(p.read(&headers(&[("cookie", "a=1")])), None);
        assert_eq!(
            p.read(&headers(&[("cookie", "__Host-keyhold-refresh=")])),
            None
        );
    }

    #[test]
    fn origin_must_match_the_host_or_the_list() {
        let same = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert_eq!(policy(&[]).check_origin(&same, None), Ok(()));
        let foreign = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "https://evil.example"),
        ]);
        assert_eq!(
            policy(&[]).check_origin(&foreign, None),
            Err(OriginError::Foreign)
        );
        let prefixed = headers(&[
            ("host", "keyhold.example"),
            ("origin", "https://keyhold.example.evil.example"),
        ]);
        assert_eq!(
            policy(&[]).check_origin(&prefixed, None),
            Err(OriginError::Foreign)
        );
        let none = headers(&[("host", "127.0.0.1:3000")]);
        assert_eq!(
            policy(&[]).check_origin(&none, None),
            Err(OriginError::Missing)
        );
        let null = headers(&[("host", "a"), ("origin", "null")]);
        assert_eq!(
            policy(&[]).check_origin(&null, None),
            Err(OriginError::Missing)
        );
        // No origin to tell: the browser's fetch metadata speaks, and only same-origin.
        for (origin, site, verdict) in [
            ("null", "same-origin", Ok(())),
            ("null", "same-site", Err(OriginError::Missing)),
            ("null", "cross-site", Err(OriginError::Missing)),
            (
                "https://evil.example",
                "same-origin",
                Err(OriginError::Foreign),
            ),
        ] {
            let sent = headers(&[("host", "a"), ("origin", origin), ("sec-fetch-site", site)]);
            assert_eq!(
                policy(&[]).check_origin(&sent, None),
                verdict,
                "{origin} {site}"
            );
        }
        let metadata_only = headers(&[("host", "a"), ("sec-fetch-site", "same-origin")]);
        assert_eq!(policy(&[]).check_origin(&metadata_only, None), Ok(()));
        let http2 = headers(&[("origin", "https://keyhold.example")]);
        assert_eq!(
            policy(&[]).check_origin(&http2, Some("keyhold.example")),
            Ok(())
        );
        assert_eq!(
            policy(&[]).check_origin(&http2, None),
            Err(OriginError::Foreign)
        );
        let listed = policy(&["https://keyhold.example"]);
        let proxied = headers(&[
            ("host", "10.0.0.5:3000"),
            ("origin", "https://keyhold.example"),
        ]);
        assert_eq!(listed.check_origin(&proxied, None), Ok(()));
        assert_eq!(listed.check_origin(&same, None), Err(OriginError::Foreign));
    }

    #[test]
    fn the_scheme_is_part_of_the_origin() {
        // Secure cookies: a plain-http page of the same host is another origin.
        let plain = headers(&[
            ("host", "keyhold.example"),
            ("origin", "http://keyhold.example"),
        ]);
        assert_eq!(
            policy(&[]).check_origin(&plain, None),
            Err(OriginError::Foreign)
        );
        let tls = headers(&[
            ("host", "keyhold.example"),
            ("origin", "https://keyhold.example"),
        ]);
        assert_eq!(policy(&[]).check_origin(&tls, None), Ok(()));
        // Loopback is a secure context for browsers: http is fine there.
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "[::1]:3000",
            "localhost",
        ] {
            let local = headers(&[("host", host), ("origin", &format!("http://{host}"))]);
            assert_eq!(policy(&[]).check_origin(&local, None), Ok(()), "{host}");
        }
        // Plain-http development (`KEYHOLD_COOKIE_SECURE=false`): http only.
        let insecure = CookiePolicy {
            secure: false,
            allowed_origins: Vec::new(),
        };
        assert_eq!(insecure.check_origin(&plain, None), Ok(()));
        assert_eq!(insecure.check_origin(&tls, None), Err(OriginError::Foreign));
    }
}
