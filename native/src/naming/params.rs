//! Request parameters read as Java 1.4.1 reads them: the servlet's `getParameter` (query string
//! first, then an `x-www-form-urlencoded` body, first value wins), `WebUtils.required` /
//! `optional` (`core/utils/WebUtils.java:44-78`: missing or empty → `Param 'x' is required.`,
//! blank → the default, values trimmed), the `DistroFilter`'s `groupName@@serviceName`
//! (`naming/web/DistroFilter.java:94-117`), commons-lang's `BooleanUtils.toBoolean`, and the
//! number parsers whose `NumberFormatException` texts become 400 answers.

use bytes::Bytes;
use nacos_raft_core::naming::{self as nm, Instance};
use std::collections::BTreeMap;

/// A refusal: the HTTP status and the exact body Java's `ResponseExceptionHandler` writes
/// (`naming/exception/ResponseExceptionHandler.java`): the bare message for a `NacosException`
/// (its own code) or an `IllegalArgumentException` (400), `caused: <msg>;` for anything else
/// (500).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// The body, plain text.
    pub body: String,
}

impl ApiError {
    /// An `IllegalArgumentException` (or `NacosException(INVALID_PARAM)`): 400, bare message.
    pub fn bad_request(msg: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            body: msg.into(),
        }
    }

    /// A `NacosException(NOT_FOUND)`: 404, bare message.
    pub fn not_found(msg: impl Into<String>) -> ApiError {
        ApiError {
            status: 404,
            body: msg.into(),
        }
    }

    /// A `NacosException(SERVER_ERROR)`: 500, bare message.
    pub fn nacos_server(msg: impl Into<String>) -> ApiError {
        ApiError {
            status: 500,
            body: msg.into(),
        }
    }

    /// Any other exception: 500, `caused: <msg>;` (`ExceptionUtil.getAllExceptionMsg`).
    pub fn exception(msg: impl std::fmt::Display) -> ApiError {
        ApiError {
            status: 500,
            body: format!("caused: {msg};"),
        }
    }
}

/// Java's `String.trim()`: every char up to U+0020 at both ends.
pub fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// commons-lang `StringUtils.isBlank`.
pub fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// commons-lang3 `BooleanUtils.toBoolean(String)`: `true`, `on`, `yes`, `y`, `t` in any case;
/// everything else (`1` included) is false.
pub fn to_boolean(s: &str) -> bool {
    ["true", "on", "yes", "y", "t"]
        .iter()
        .any(|t| s.eq_ignore_ascii_case(t))
}

/// `Boolean.parseBoolean`: only `true`, in any case.
pub fn parse_boolean(s: &str) -> bool {
    s.eq_ignore_ascii_case("true")
}

fn number_format(s: &str) -> ApiError {
    // NumberFormatException is an IllegalArgumentException: 400 with its message.
    ApiError::bad_request(format!("For input string: \"{s}\""))
}

/// `Integer.parseInt`: an optional sign and decimal digits within the `int` range.
pub fn parse_int(s: &str) -> Result<i32, ApiError> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(number_format(s));
    }
    s.parse::<i32>().map_err(|_| number_format(s))
}

/// `Double.parseDouble` for the decimal forms Java reads: surrounding whitespace, a sign,
/// `NaN`, `Infinity`, digits with an optional point and exponent, an optional `f`/`d` suffix.
/// (Java's hexadecimal floating-point literals are refused here.)
pub fn parse_double(s: &str) -> Result<f64, ApiError> {
    let t = java_trim(s);
    if t.is_empty() {
        return Err(ApiError::bad_request("empty String"));
    }
    let (neg, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let v = match body {
        "NaN" => f64::NAN,
        "Infinity" => f64::INFINITY,
        _ => {
            let core = body.strip_suffix(['f', 'F', 'd', 'D']).unwrap_or(body);
            let (mant, exp) = match core.find(['e', 'E']) {
                Some(i) => (&core[..i], Some(&core[i + 1..])),
                None => (core, None),
            };
            let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
            let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
            let mant_ok = digits(int) && digits(frac) && !(int.is_empty() && frac.is_empty());
            let exp_ok = exp.is_none_or(|e| {
                let e = e.strip_prefix(['+', '-']).unwrap_or(e);
                !e.is_empty() && digits(e)
            });
            if !mant_ok || !exp_ok {
                return Err(number_format(s));
            }
            let canonical = format!(
                "{}.{}e{}",
                if int.is_empty() { "0" } else { int },
                if frac.is_empty() { "0" } else { frac },
                exp.unwrap_or("0")
            );
            canonical.parse::<f64>().map_err(|_| number_format(s))?
        }
    };
    Ok(if neg { -v } else { v })
}

/// commons-lang `NumberUtils.toInt`: the number, or 0 for anything unparsable.
pub fn to_int_or_zero(s: &str) -> i32 {
    s.parse().unwrap_or(0)
}

/// commons-lang `NumberUtils.toFloat`: the number, or 0.0 for anything unparsable.
pub fn to_float_or_zero(s: &str) -> f32 {
    parse_double(s).map(|v| v as f32).unwrap_or(0.0)
}

/// The parameters of one request.
#[derive(Clone, Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// The `DistroFilter`'s replacement of `serviceName`, when it made one.
    service_override: Option<String>,
}

impl Params {
    /// Query string pairs first, then the pairs of a form body (only with a form content type,
    /// as Tomcat and Spring's `FormContentFilter` read them), then the `DistroFilter`'s grouping.
    pub fn parse(query: Option<&str>, content_type: Option<&str>, body: &Bytes) -> Params {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if let Some(q) = query {
            pairs.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        let is_form = content_type.is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
        if is_form && !body.is_empty() {
            pairs.extend(form_urlencoded::parse(body).into_owned());
        }
        let mut p = Params {
            pairs,
            service_override: None,
        };
        p.service_override = p.distro_grouped_name();
        p
    }

    /// Builds parameters from pairs (tests).
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Params {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        Params::parse(Some(&q), None, &Bytes::new())
    }

    /// `DistroFilter`: `serviceName` (or `dom` for clients under 0.8) trimmed; without `@@` it
    /// becomes `<groupName or DEFAULT_GROUP>@@<name>`. `None` when there is no name to set.
    fn distro_grouped_name(&self) -> Option<String> {
        let mut name = self.raw("serviceName").map(str::to_string);
        if name.as_deref().is_none_or(is_blank) {
            name = self.raw("dom").map(str::to_string);
        }
        let name = name?;
        if is_blank(&name) {
            return None;
        }
        let name = java_trim(&name).to_string();
        let group = match self.raw("groupName") {
            Some(g) if !is_blank(g) => g.to_string(),
            _ => nm::DEFAULT_GROUP.to_string(),
        };
        Some(if name.contains(nm::GROUP_SEPARATOR) {
            name
        } else {
            format!("{group}{}{name}", nm::GROUP_SEPARATOR)
        })
    }

    /// `request.getParameter(name)`: the first value, untrimmed.
    pub fn raw(&self, name: &str) -> Option<&str> {
        if name == "serviceName" {
            if let Some(s) = &self.service_override {
                return Some(s);
            }
        }
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `WebUtils.required`.
    pub fn required(&self, name: &str) -> Result<String, ApiError> {
        match self.raw(name) {
            Some(v) if !v.is_empty() => Ok(java_trim(v).to_string()),
            _ => Err(ApiError::bad_request(format!(
                "Param '{name}' is required."
            ))),
        }
    }

    /// `WebUtils.optional`.
    pub fn optional(&self, name: &str, default: &str) -> String {
        match self.raw(name) {
            Some(v) if !is_blank(v) => java_trim(v).to_string(),
            _ => default.to_string(),
        }
    }

    /// Spring's `@RequestParam String name` without a default: missing is a 400.
    pub fn request_param(&self, name: &str) -> Result<String, ApiError> {
        self.raw(name)
            .map(str::to_string)
            .ok_or_else(|| ApiError::bad_request(format!("Parameter '{name}' is missing")))
    }

    /// `namespaceId`, `public` by default.
    pub fn namespace(&self) -> String {
        self.optional("namespaceId", nm::DEFAULT_NAMESPACE)
    }

    /// `serviceName`, required and in `group@@name` form.
    pub fn grouped_service(&self) -> Result<String, ApiError> {
        let s = self.required("serviceName")?;
        nm::check_service_name_format(&s).map_err(ApiError::bad_request)?;
        Ok(s)
    }
}

/// `UtilsAndCommons.parseMetadata`: a JSON object of strings, else `k=v,k2=v2`
/// (`misc/UtilsAndCommons.java:156`).
pub fn parse_metadata(text: &str) -> Result<BTreeMap<String, String>, ApiError> {
    if is_blank(text) {
        return Ok(BTreeMap::new());
    }
    if java_trim(text) == "null" {
        return Ok(BTreeMap::new());
    }
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(flatten)]
        map: BTreeMap<String, serde_json::Value>,
    }
    if let Ok(Probe { map }) = serde_json::from_str::<Probe>(text) {
        let mut out = BTreeMap::new();
        let mut scalar = true;
        for (k, v) in map {
            match v {
                serde_json::Value::Null => {}
                serde_json::Value::String(s) => {
                    out.insert(k, s);
                }
                serde_json::Value::Bool(b) => {
                    out.insert(k, b.to_string());
                }
                serde_json::Value::Number(n) => {
                    out.insert(k, n.to_string());
                }
                _ => scalar = false,
            }
        }
        if scalar {
            return Ok(out);
        }
    }
    let bad = || ApiError::bad_request(format!("metadata format incorrect:{text}"));
    let mut out = BTreeMap::new();
    for entry in java_split(text, ',') {
        let kv = java_split(entry, '=');
        if kv.len() != 2 {
            return Err(bad());
        }
        out.insert(kv[0].to_string(), kv[1].to_string());
    }
    Ok(out)
}

/// Java's `String.split(c)`: trailing empty parts dropped.
pub fn java_split(s: &str, c: char) -> Vec<&str> {
    let mut v: Vec<&str> = s.split(c).collect();
    while v.last().is_some_and(|p| p.is_empty()) {
        v.pop();
    }
    v
}

/// `Instance.validate`'s address rule (`naming/core/Instance.java:339`): an address made only
/// of digits and dots must be an IPv4 address, else `IPUtil.splitIPPortStr` refuses it.
/// Java's `InetAddress` also reads the short forms `a`, `a.b`, `a.b.c`; they are refused here
/// (a health check would have to connect to a rewritten address).
pub fn check_ip(ip: &str) -> Result<(), ApiError> {
    if ip.is_empty() || !ip.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Ok(());
    }
    let parts: Vec<&str> = ip.split('.').collect();
    let ok = parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 10 && p.parse::<u32>().is_ok_and(|v| v <= 255));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "The IPv4 address(\"{ip}\") is incorrect."
        )))
    }
}

/// The weight rule of `Instance.validate`; NaN, which Java lets through, is refused too (it
/// cannot be written as JSON).
pub fn check_weight(w: f64) -> Result<(), ApiError> {
    if w.is_nan() || !(0.0..=nm::MAX_WEIGHT).contains(&w) {
        return Err(ApiError::bad_request(
            "instance format invalid: The weights range from 0.0 to 10000.0",
        ));
    }
    Ok(())
}

/// What `InstanceController.getIpAddress` reads (`InstanceController.java:592-631`), in Java's
/// order, so that the first bad parameter is the one reported.
pub fn ip_address(p: &Params, default_ephemeral: bool) -> Result<Instance, ApiError> {
    let enabled_text = p.optional("enabled", "");
    let enabled = if is_blank(&enabled_text) {
        to_boolean(&p.optional("enable", "true"))
    } else {
        to_boolean(&enabled_text)
    };
    let weight = p.optional("weight", "1");
    let healthy = to_boolean(&p.optional("healthy", "true"));
    // getBasicIpAddress
    let ip = p.required("ip")?;
    let port = p.required("port")?;
    let mut cluster = p.optional("clusterName", "");
    if is_blank(&cluster) {
        cluster = p.optional("cluster", nm::DEFAULT_CLUSTER);
    }
    let ephemeral = to_boolean(&p.optional(
        "ephemeral",
        if default_ephemeral { "true" } else { "false" },
    ));
    let port = parse_int(&port)?;
    let weight = parse_double(&weight)?;
    Ok(Instance {
        ip,
        port,
        weight,
        healthy,
        enabled,
        ephemeral,
        cluster_name: Some(cluster),
        ..Instance::default()
    })
}

/// `InstanceController.parseInstance` (`InstanceController.java:571`): the instance a
/// registration or an update writes. `now_ms` becomes its `lastBeat`.
pub fn parse_instance(
    p: &Params,
    default_ephemeral: bool,
    now_ms: i64,
) -> Result<Instance, ApiError> {
    let service = p.required("serviceName")?;
    let app = p.optional("app", "DEFAULT");
    let mut i = ip_address(p, default_ephemeral)?;
    i.app = Some(app);
    i.service_name = Some(service);
    i.instance_id = Some(i.generate_instance_id());
    i.last_beat = now_ms;
    let metadata = p.optional("metadata", "");
    if !metadata.is_empty() {
        i.metadata = parse_metadata(&metadata)?;
    }
    check_ip(&i.ip)?;
    check_weight(i.weight)?;
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_as_commons_lang_reads_them() {
        for t in ["true", "TRUE", "On", "yes", "Y", "t"] {
            assert!(to_boolean(t), "{t}");
        }
        for f in ["1", "false", "", "no", "tru", "ok"] {
            assert!(!to_boolean(f), "{f}");
        }
        assert!(parse_boolean("True") && !parse_boolean("yes"));
    }

    #[test]
    fn numbers_as_java_parses_them() {
        assert_eq!(parse_int("8080"), Ok(8080));
        assert_eq!(parse_int("+80"), Ok(80));
        assert_eq!(parse_int("-1"), Ok(-1));
        assert_eq!(
            parse_int("80a").unwrap_err().body,
            "For input string: \"80a\""
        );
        assert!(parse_int("99999999999").is_err());
        assert_eq!(parse_double("1"), Ok(1.0));
        assert_eq!(parse_double(" 2.5 "), Ok(2.5));
        assert_eq!(parse_double("1e2"), Ok(100.0));
        assert_eq!(parse_double(".5"), Ok(0.5));
        assert_eq!(parse_double("3."), Ok(3.0));
        assert_eq!(parse_double("7d"), Ok(7.0));
        assert_eq!(parse_double("-0.5F"), Ok(-0.5));
        assert!(parse_double("NaN").unwrap().is_nan());
        assert_eq!(parse_double("Infinity"), Ok(f64::INFINITY));
        for bad in ["abc", "1,5", "inf", "1e", ".", "0x1p3", "1.2.3"] {
            assert_eq!(
                parse_double(bad).unwrap_err().body,
                format!("For input string: \"{bad}\""),
                "{bad}"
            );
        }
        assert_eq!(to_int_or_zero("x"), 0);
        assert_eq!(to_float_or_zero("0.5"), 0.5);
    }

    #[test]
    fn required_optional_and_trimming() {
        let p = Params::from_pairs(&[("a", " x "), ("b", "   "), ("c", ""), ("a", "second")]);
        assert_eq!(p.required("a").unwrap(), "x");
        assert_eq!(p.optional("a", "d"), "x");
        assert_eq!(p.optional("b", "d"), "d");
        assert_eq!(p.optional("c", "d"), "d");
        assert_eq!(p.optional("zz", "d"), "d");
        // Blank but not empty passes `required` and comes back trimmed, as in Java.
        assert_eq!(p.required("b").unwrap(), "");
        assert_eq!(p.required("c").unwrap_err().body, "Param 'c' is required.");
        assert_eq!(p.required("zz").unwrap_err().status, 400);
    }

    #[test]
    fn query_first_then_form_body_only_with_a_form_type() {
        let body = Bytes::from_static(b"ip=127.0.0.2&port=2&weight=3");
        let form = Some("application/x-www-form-urlencoded; charset=UTF-8");
        let p = Params::parse(Some("ip=127.0.0.1"), form, &body);
        assert_eq!(p.raw("ip"), Some("127.0.0.1"));
        assert_eq!(p.raw("port"), Some("2"));
        let p = Params::parse(Some("ip=127.0.0.1"), Some("application/json"), &body);
        assert_eq!(p.raw("port"), None);
        let p = Params::parse(Some("m=a+b%2Cc"), None, &Bytes::new());
        assert_eq!(p.raw("m"), Some("a b,c"));
    }

    #[test]
    fn service_names_are_grouped_as_the_distro_filter_does() {
        let g = |pairs: &[(&str, &str)]| Params::from_pairs(pairs).grouped_service();
        assert_eq!(
            g(&[("serviceName", "demo")]).unwrap(),
            "DEFAULT_GROUP@@demo"
        );
        assert_eq!(
            g(&[("serviceName", " demo "), ("groupName", "G")]).unwrap(),
            "G@@demo"
        );
        assert_eq!(
            g(&[("serviceName", "A@@demo"), ("groupName", "G")]).unwrap(),
            "A@@demo"
        );
        assert_eq!(g(&[("dom", "old")]).unwrap(), "DEFAULT_GROUP@@old");
        assert_eq!(
            g(&[("groupName", "G")]).unwrap_err().body,
            "Param 'serviceName' is required."
        );
        assert_eq!(
            g(&[("serviceName", "  ")]).unwrap_err().body,
            "Param 'serviceName' is illegal, it should be format as 'groupName@@serviceName'"
        );
        assert_eq!(
            g(&[("serviceName", "G@@")]).unwrap_err().body,
            "Param 'serviceName' is illegal, it should be format as 'groupName@@serviceName'"
        );
    }

    #[test]
    fn metadata_as_json_or_pairs() {
        let m = parse_metadata(r#"{"a":"1","b":2,"c":true}"#).unwrap();
        assert_eq!(m["a"], "1");
        assert_eq!(m["b"], "2");
        assert_eq!(m["c"], "true");
        let m = parse_metadata("k=v,k2=v2,").unwrap();
        assert_eq!(m["k"], "v");
        assert_eq!(m["k2"], "v2");
        assert_eq!(parse_metadata("{}").unwrap().len(), 0);
        for bad in ["k", "k=v=w", "a=1,b", r#"{"a":[1]}"#, "k="] {
            assert_eq!(
                parse_metadata(bad).unwrap_err().body,
                format!("metadata format incorrect:{bad}"),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_instance_with_java_defaults_and_fallbacks() {
        let p = Params::from_pairs(&[
            ("serviceName", "demo"),
            ("ip", " 127.0.0.1 "),
            ("port", "8080"),
            ("cluster", "C1"),
            ("enable", "false"),
            ("ephemeral", "false"),
        ]);
        let i = parse_instance(&p, true, 42).unwrap();
        assert_eq!(i.ip, "127.0.0.1");
        assert_eq!(i.port, 8080);
        assert_eq!(i.cluster_name.as_deref(), Some("C1"));
        assert!(!i.enabled && i.healthy && !i.ephemeral);
        assert_eq!(i.weight, 1.0);
        assert_eq!(i.app.as_deref(), Some("DEFAULT"));
        assert_eq!(i.last_beat, 42);
        assert_eq!(
            i.instance_id.as_deref(),
            Some("127.0.0.1#8080#C1#DEFAULT_GROUP@@demo")
        );
        // `enabled` wins over `enable`, `clusterName` over `cluster`; ephemeral defaults on.
        let p = Params::from_pairs(&[
            ("serviceName", "demo"),
            ("ip", "127.0.0.1"),
            ("port", "1"),
            ("clusterName", "C2"),
            ("cluster", "C1"),
            ("enabled", "no"),
            ("enable", "true"),
        ]);
        let i = parse_instance(&p, true, 0).unwrap();
        assert_eq!(i.cluster(), "C2");
        assert!(!i.enabled && i.ephemeral);
    }

    #[test]
    fn instance_errors_in_javas_order() {
        let e = |pairs: &[(&str, &str)]| {
            parse_instance(&Params::from_pairs(pairs), true, 0)
                .unwrap_err()
                .body
        };
        assert_eq!(e(&[("serviceName", "s")]), "Param 'ip' is required.");
        assert_eq!(
            e(&[("serviceName", "s"), ("ip", "127.0.0.1")]),
            "Param 'port' is required."
        );
        assert_eq!(
            e(&[
                ("serviceName", "s"),
                ("ip", "127.0.0.1"),
                ("port", "x"),
                ("weight", "y")
            ]),
            "For input string: \"x\""
        );
        assert_eq!(
            e(&[
                ("serviceName", "s"),
                ("ip", "127.0.0.1"),
                ("port", "1"),
                ("weight", "y")
            ]),
            "For input string: \"y\""
        );
        assert_eq!(
            e(&[
                ("serviceName", "s"),
                ("ip", "127.0.0.1"),
                ("port", "1"),
                ("weight", "10001")
            ]),
            "instance format invalid: The weights range from 0.0 to 10000.0"
        );
        assert_eq!(
            e(&[
                ("serviceName", "s"),
                ("ip", "127.0.0.1"),
                ("port", "1"),
                ("weight", "-1")
            ]),
            "instance format invalid: The weights range from 0.0 to 10000.0"
        );
        assert_eq!(
            e(&[
                ("serviceName", "s"),
                ("ip", "127.0.0.1"),
                ("port", "1"),
                ("weight", "NaN")
            ]),
            "instance format invalid: The weights range from 0.0 to 10000.0"
        );
        assert_eq!(
            e(&[("serviceName", "s"), ("ip", "127.0.0.256"), ("port", "1")]),
            "The IPv4 address(\"127.0.0.256\") is incorrect."
        );
        assert_eq!(
            e(&[("serviceName", "s"), ("ip", "127.1"), ("port", "1")]),
            "The IPv4 address(\"127.1\") is incorrect."
        );
        assert_eq!(
            e(&[
                ("serviceName", "s"),
                ("ip", "127.0.0.1"),
                ("port", "1"),
                ("metadata", "a")
            ]),
            "metadata format incorrect:a"
        );
        // Names are not checked, as in Java.
        assert!(parse_instance(
            &Params::from_pairs(&[("serviceName", "s"), ("ip", "my-host"), ("port", "1")]),
            true,
            0
        )
        .is_ok());
    }
}
