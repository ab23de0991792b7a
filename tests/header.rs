//! `include/selectors.h`: exactly what cbindgen generates from the sources, clean enough to
//! include anywhere (every name it defines is prefixed, its comments and syntax are C89's), and
//! what `docs/CONTRACT.md` says it is.

const COMMITTED: &str = include_str!("../include/selectors.h");
const CONTRACT: &str = include_str!("../docs/CONTRACT.md");

/// The one name the header defines without the `sel_`/`SEL_` prefix.
const INCLUDE_GUARD: &str = "SELECTORS_H";

#[test]
fn committed_header_matches_the_generated_one() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/include/selectors.h"));
    assert!(
        generated == COMMITTED,
        "include/selectors.h is stale: run `SELECTORS_BLESS_HEADER=1 cargo build` and commit it"
    );
}

#[test]
fn every_name_the_header_defines_is_prefixed() {
    let names = defined_names(COMMITTED);
    for expected in [
        "SELECTORS_H",
        "SEL_EVENT_READ",
        "sel_key",
        "sel_new",
        "sel_strerror",
    ] {
        assert!(
            names.iter().any(|name| name == expected),
            "{expected} not found in {names:?}"
        );
    }
    let unprefixed: Vec<&String> = names
        .iter()
        .filter(|name| {
            !(name.starts_with("sel_") || name.starts_with("SEL_") || *name == INCLUDE_GUARD)
        })
        .collect();
    assert!(
        unprefixed.is_empty(),
        "include/selectors.h defines names a user's code may clash with: {unprefixed:?}"
    );
}

#[test]
fn the_scan_finds_each_kind_of_unprefixed_name() {
    let header = "#define ALL_MODES 3\n/* #define IN_COMMENT 1 */\ntypedef struct point { int x; } point_t;\n\
                  typedef struct sel_selector sel_selector;\nint helper(int fd, const char *name);\n\
                  const char *sel_ok(int kind);\nextern int counter;\n";
    let names = defined_names(header);
    assert_eq!(
        names,
        [
            "ALL_MODES",
            "counter",
            "helper",
            "point",
            "point_t",
            "sel_ok",
            "sel_selector"
        ]
    );
}

#[test]
fn the_contract_names_every_definition_of_the_header_with_its_value() {
    let api = contract_api_block();
    let mut in_header = defined_names(COMMITTED);
    in_header.retain(|name| name != INCLUDE_GUARD);
    assert_eq!(
        defined_names(api),
        in_header,
        "docs/CONTRACT.md (The API) and include/selectors.h define different names"
    );
    let header_values = macro_values(COMMITTED);
    for (name, value) in macro_values(api) {
        let Some(value) = value else { continue };
        let in_header = header_values.iter().find(|(other, _)| *other == name);
        assert_eq!(
            in_header.and_then(|(_, value)| *value),
            Some(value),
            "{name}: docs/CONTRACT.md and include/selectors.h disagree"
        );
    }
}

/// The C block of the contract's "The API" section.
fn contract_api_block() -> &'static str {
    let section = CONTRACT
        .split_once("## The API")
        .expect("docs/CONTRACT.md has a section The API")
        .1;
    let block = section
        .split_once("```c\n")
        .expect("The API has a C block")
        .1;
    block.split_once("```").expect("the C block ends").0
}

/// Each `#define NAME VALUE` of a header, with its value when it is an integer literal (a
/// macro whose value the text leaves open, `/* major */`, has none).
fn macro_values(header: &str) -> Vec<(String, Option<u64>)> {
    without_comments(header)
        .lines()
        .filter_map(|line| line.trim().strip_prefix("#define"))
        .map(|definition| {
            let mut words = definition.split_whitespace();
            let name = words.next().unwrap_or_default().to_string();
            let value = words.next().and_then(|literal| {
                let literal = literal.trim_end_matches(['u', 'U']);
                match literal.strip_prefix("0x") {
                    Some(hex) => u64::from_str_radix(hex, 16).ok(),
                    None => literal.parse().ok(),
                }
            });
            (name, value)
        })
        .collect()
}

/// Every macro, struct tag, typedef, function and variable a C header declares at file scope
/// (parameters and struct members are not file-scope names), sorted.
fn defined_names(header: &str) -> Vec<String> {
    let code = without_comments(header);
    let mut names = Vec::new();
    let mut declarations = String::new();
    for line in code.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#define") {
            names.extend(identifiers(rest).into_iter().take(1));
        } else if !line.starts_with('#') {
            declarations.push_str(line);
            declarations.push('\n');
        }
    }
    for statement in top_level_statements(&declarations) {
        let words = identifiers(&statement);
        names.extend(
            words
                .windows(2)
                .filter(|pair| pair[0] == "struct")
                .map(|pair| pair[1].clone()),
        );
        // A typedef or variable ends with its name; a function's name comes before its '('.
        let declarator = match statement.find('(') {
            Some(paren) if !statement.starts_with("typedef") => &statement[..paren],
            _ => &statement,
        };
        names.extend(identifiers(declarator).pop());
    }
    names.sort();
    names.dedup();
    names
}

/// The text with `/* */` and `//` comments replaced by a space.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(['/']) {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        if let Some(body) = tail.strip_prefix("/*") {
            rest = body.find("*/").map_or("", |end| &body[end + 2..]);
            out.push(' ');
        } else if let Some(body) = tail.strip_prefix("//") {
            rest = body.find('\n').map_or("", |end| &body[end..]);
        } else {
            out.push('/');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// The declarations at file scope, each without its braces' contents and its `;`. An
/// `extern "C" {` block is a scope of its own, not a declaration.
fn top_level_statements(code: &str) -> Vec<String> {
    let code = code.replace("extern \"C\" {", " ");
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in code.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => depth -= 1,
            '}' => {}
            ';' if depth == 0 => {
                statements.push(current.trim().to_string());
                current.clear();
            }
            _ if depth == 0 => current.push(c),
            _ => {}
        }
    }
    statements
}

/// The identifiers and keywords of a piece of C, in order.
fn identifiers(code: &str) -> Vec<String> {
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
        .map(str::to_string)
        .collect()
}

/// The header compiles in C89 mode with `-pedantic` (its comments and syntax are C89's; only
/// `<stdint.h>` is C99's). The C tests build it as C99 and C++ already.
#[cfg(target_os = "linux")]
#[test]
fn header_compiles_as_c89() {
    let dir = std::env::temp_dir().join(format!("selectors-c89-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let program = dir.join("c89.c");
    std::fs::write(
        &program,
        "#include <selectors.h>\nint main(void) { return sel_version() == 0; }\n",
    )
    .unwrap();
    let include = concat!(env!("CARGO_MANIFEST_DIR"), "/include");
    let output = std::process::Command::new(env!("SELECTORS_CC"))
        .args([
            "-std=c89",
            "-pedantic",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
        ])
        .arg(format!("-I{include}"))
        .arg(&program)
        .output()
        .expect("the C compiler runs");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        output.status.success(),
        "include/selectors.h is not C89:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
