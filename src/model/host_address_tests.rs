use proptest::prelude::*;

use super::*;

fn addr(user: Option<&str>, host: &str, port: u16) -> HostAddress {
    HostAddress {
        user: user.map(str::to_string),
        host: host.to_string(),
        port,
    }
}

#[test]
fn forms_the_operator_writes() {
    let cases = [
        ("build1", addr(None, "build1", 22)),
        ("build1.internal:2222", addr(None, "build1.internal", 2222)),
        (
            "ops@build1.internal:22",
            addr(Some("ops"), "build1.internal", 22),
        ),
        ("ops@10.0.0.7", addr(Some("ops"), "10.0.0.7", 22)),
        ("[::1]", addr(None, "::1", 22)),
        (
            "ops@[2001:db8::1]:2222",
            addr(Some("ops"), "2001:db8::1", 2222),
        ),
        (
            "deploy_bot.x@my_host-2",
            addr(Some("deploy_bot.x"), "my_host-2", 22),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(HostAddress::parse(input), Ok(want), "{input}");
    }
}

#[test]
fn shown_with_its_port_and_read_back_the_same() {
    for input in ["build1", "ops@b:2200", "[::1]", "u@[fe80::2]:7"] {
        let a = HostAddress::parse(input).unwrap();
        assert_eq!(HostAddress::parse(&a.to_string()), Ok(a.clone()), "{input}");
    }
    assert_eq!(HostAddress::parse("b").unwrap().to_string(), "b:22");
    assert_eq!(
        HostAddress::parse("u@[::1]:2").unwrap().to_string(),
        "u@[::1]:2"
    );
}

#[test]
fn refused_with_a_reason() {
    let cases = [
        ("", "empty"),
        ("-oProxyCommand=sh", "option"),
        ("ops@-oProxyCommand=x", "option"),
        ("-l@host", "option"),
        ("@host", "user before '@' is empty"),
        ("ops@", "host is empty"),
        ("ops@host:", "port"),
        ("host:0", "port"),
        ("host:65536", "port"),
        ("host:+22", "port"),
        ("host:22x", "port"),
        ("a@b@c", "may hold only"),
        ("host name", "may hold only"),
        ("host\n", "may hold only"),
        ("ops@host;rm", "may hold only"),
        ("host/x", "may hold only"),
        ("2001:db8::1", "brackets"),
        ("[2001:db8::1", "closing"),
        ("[not-v6]:22", "not an IPv6"),
        ("[::1]x", "only ':PORT'"),
        ("[fe80::1%eth0]", "not an IPv6"),
        (".host", "empty label"),
        ("host..x", "empty label"),
        ("us er@h", "may hold only"),
        ("$(id)@h", "may hold only"),
    ];
    for (input, want) in cases {
        let err = HostAddress::parse(input).expect_err(input);
        assert!(err.to_string().contains(want), "{input:?}: {err}");
    }
}

#[test]
fn ssh_args_are_separate_elements() {
    let a = HostAddress::parse("ops@[::1]:2222").unwrap();
    assert_eq!(a.ssh_args(), ["-p", "2222", "-l", "ops", "::1"]);
    let a = HostAddress::parse("build1").unwrap();
    assert_eq!(a.ssh_args(), ["-p", "22", "build1"]);
}

proptest! {
    /// Whatever is typed, a parsed address never hands ssh an option, a
    /// space, a control character or a shell character.
    #[test]
    fn hostile_input_never_becomes_an_ssh_option(input in "\\PC{0,40}|[-@:\\[\\] a-z0-9;$`'\"\\\\\n\t.%]{0,24}") {
        if let Ok(a) = HostAddress::parse(&input) {
            let parts: Vec<&str> = a.user.iter().map(String::as_str).chain([a.host.as_str()]).collect();
            for part in parts {
                prop_assert!(!part.is_empty());
                prop_assert!(!part.starts_with('-'), "{part:?} from {input:?}");
                prop_assert!(part.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':')), "{part:?} from {input:?}");
            }
            prop_assert!(a.port > 0);
            prop_assert_eq!(HostAddress::parse(&a.to_string()), Ok(a.clone()));
        }
    }

    /// Every well-formed address is read back as written.
    #[test]
    fn well_formed_addresses_parse(user in proptest::option::of("[a-z_][a-z0-9._-]{0,15}"), host in "[a-z0-9][a-z0-9-]{0,10}(\\.[a-z0-9][a-z0-9-]{0,10}){0,3}", port in proptest::option::of(1u16..)) {
        let mut text = String::new();
        if let Some(u) = &user { text.push_str(u); text.push('@'); }
        text.push_str(&host);
        if let Some(p) = port { text.push_str(&format!(":{p}")); }
        let a = HostAddress::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(a.user, user);
        prop_assert_eq!(a.host, host);
        prop_assert_eq!(a.port, port.unwrap_or(22));
    }
}
