//! Every C and C++ example in `README.md` and in the manual (`man/*.3`) compiles with the
//! project's strict flags and links against `libselectors.so`, so none can rot.
//!
//! Which blocks: in README.md, the fenced blocks marked ` ```c ` and ` ```cpp `; in a manual
//! page, every `.Bd -literal` block. C is built with `-std=c99`, C++ with `-std=c++17`, both
//! with `-Wall -Wextra -Werror -pedantic`.
//!
//! What a block is, the line right before it says (README: `<!-- snippet: FORM -->`; manual:
//! `.\" snippet: FORM`, where a C++ block starts the text with `c++`: `.\" snippet: c++ body`):
//! - no such line: a whole program, with its own `#include`s and `main`;
//! - `file`: declarations and functions at file scope, built after `tests/snippets/context.h`
//!   (the standard headers the examples use, `selectors.h`, `struct connection`);
//! - `body`: statements, built after that header in a block of its own inside
//!   `void snippet(sel_selector *sel, int fd, struct connection *conn)` (so it may use those
//!   three, or declare its own `sel`);
//! - `skip REASON`: not code to build (a shell command, the header's declarations shown
//!   again); the reason is required.
//!
//! A block with no form that is not a whole program fails the test, naming this convention.
//! The programs are linked, not run (most wait for ever on their fds).
#![cfg(target_os = "linux")]

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// C or C++.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Language {
    C,
    Cxx,
}

/// How a block is built (see the module's documentation).
#[derive(Debug, PartialEq)]
enum Form {
    Program,
    File,
    Body,
    Skip,
}

/// One example: where it is, how to build it, and its code.
#[derive(Debug)]
struct Snippet {
    /// `file:line` of its first line of code.
    origin: String,
    /// The line of its first line of code in that file, for `#line`.
    line: usize,
    language: Language,
    form: Form,
    code: String,
}

impl Snippet {
    /// The block whose code starts at line index `start` of `path`, marked with `marker`.
    fn new(
        path: &str,
        start: usize,
        marker: Option<&str>,
        language: Language,
        code: String,
    ) -> Self {
        let origin = format!("{path}:{}", start + 1);
        Snippet {
            form: form_of(marker, &origin),
            origin,
            line: start + 1,
            language,
            code,
        }
    }
}

/// The form named by a marker line's text after `snippet:`.
fn form_of(marker: Option<&str>, origin: &str) -> Form {
    let marker = marker.unwrap_or_default();
    match marker.split_whitespace().next() {
        None => Form::Program,
        Some("file") => Form::File,
        Some("body") => Form::Body,
        Some("skip") if marker.split_whitespace().nth(1).is_some() => Form::Skip,
        _ => panic!("{origin}: unknown snippet form {marker:?} (file, body, or skip REASON)"),
    }
}

/// The ` ```c ` and ` ```cpp ` blocks of a Markdown file.
fn markdown_snippets(path: &str, text: &str) -> Vec<Snippet> {
    let lines: Vec<&str> = text.lines().collect();
    let mut snippets = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let language = match lines[index].trim() {
            "```c" => Some(Language::C),
            "```cpp" | "```c++" => Some(Language::Cxx),
            _ => None,
        };
        let marker = index
            .checked_sub(1)
            .and_then(|before| lines[before].trim().strip_prefix("<!-- snippet:"))
            .map(|rest| rest.trim_end_matches("-->").trim());
        index += 1;
        let Some(language) = language else {
            if lines[index - 1].trim_start().starts_with("```") {
                // Another language's block: skip to its end so its fence is not an opening.
                while index < lines.len() && lines[index].trim() != "```" {
                    index += 1;
                }
                index += 1;
            }
            continue;
        };
        let start = index;
        while index < lines.len() && lines[index].trim() != "```" {
            index += 1;
        }
        snippets.push(Snippet::new(
            path,
            start,
            marker,
            language,
            lines[start..index].join("\n"),
        ));
        index += 1;
    }
    snippets
}

/// The `.Bd -literal` blocks of an mdoc page, with mdoc's escapes turned back into C.
fn manual_snippets(path: &str, text: &str) -> Vec<Snippet> {
    let lines: Vec<&str> = text.lines().collect();
    let mut snippets = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        if !lines[index].starts_with(".Bd -literal") {
            index += 1;
            continue;
        }
        let marker = index
            .checked_sub(1)
            .and_then(|before| lines[before].strip_prefix(".\\\" snippet:"))
            .map(str::trim);
        // A page about C++ says so first: `.\" snippet: c++ FORM`.
        let cxx = marker.and_then(|marker| marker.strip_prefix("c++"));
        let (language, marker) = match cxx {
            Some(rest) => (Language::Cxx, Some(rest.trim())),
            None => (Language::C, marker),
        };
        index += 1;
        let start = index;
        while index < lines.len() && !lines[index].starts_with(".Ed") {
            index += 1;
        }
        let code = lines[start..index].iter().map(|line| unescape_mdoc(line));
        snippets.push(Snippet::new(
            path,
            start,
            marker,
            language,
            code.collect::<Vec<_>>().join("\n"),
        ));
        index += 1;
    }
    snippets
}

/// A literal line of mdoc as the reader sees it: `\e` is a backslash, `\&` nothing, `\-` a
/// minus, `\(aq` and `\(dq` quotes.
fn unescape_mdoc(line: &str) -> String {
    line.replace("\\&", "")
        .replace("\\-", "-")
        .replace("\\(aq", "'")
        .replace("\\(dq", "\"")
        .replace("\\e", "\\")
}

/// Every example of README.md and man/*.3.
fn all_snippets() -> Vec<Snippet> {
    let mut snippets = markdown_snippets("README.md", &read("README.md"));
    let mut pages: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("man"))
        .expect("man/ is readable")
        .map(|entry| entry.expect("man/ lists").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "3"))
        .collect();
    pages.sort();
    for page in pages {
        let name = format!("man/{}", page.file_name().unwrap().to_string_lossy());
        snippets.extend(manual_snippets(&name, &read(&name)));
    }
    snippets
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(Path::new(ROOT).join(relative))
        .unwrap_or_else(|error| panic!("{relative}: {error}"))
}

/// The translation unit that builds `snippet`, with `#line` pointing back at its origin; an
/// error for a block that does not follow the convention.
fn source_of(snippet: &Snippet) -> Result<String, String> {
    let (file, _) = snippet
        .origin
        .rsplit_once(':')
        .expect("origin is file:line");
    let position = format!("#line {} \"{file}\"\n", snippet.line);
    let mut source = String::new();
    match snippet.form {
        Form::Program => {
            if !snippet.code.contains("main(") {
                return Err(format!(
                    "{}: this block has no main, so it is not a whole program: mark it with a \
                     snippet form (file, body or skip REASON), see tests/snippets.rs",
                    snippet.origin
                ));
            }
            writeln!(source, "{position}{}", snippet.code).unwrap();
        }
        Form::File => {
            write!(
                source,
                "#include \"context.h\"\n{position}{}\nint main(void) {{ return 0; }}\n",
                snippet.code
            )
            .unwrap();
        }
        Form::Body => {
            let signature = "void snippet(sel_selector *sel, int fd, struct connection *conn)";
            write!(
                source,
                "#include \"context.h\"\n{signature};\n{signature}\n{{\n\
                 (void)sel; (void)fd; (void)conn;\n{{\n{position}{}\n}}\n}}\n\
                 int main(void) {{ return 0; }}\n",
                snippet.code
            )
            .unwrap();
        }
        Form::Skip => unreachable!("skipped blocks are not built"),
    }
    Ok(source)
}

/// Compiles and links one snippet; the compiler's complaint when it fails.
fn build(snippet: &Snippet, dir: &Path, number: usize) -> Result<(), String> {
    let (compiler, standard, extension) = match snippet.language {
        Language::C => (env!("SELECTORS_CC"), "-std=c99", "c"),
        Language::Cxx => (env!("SELECTORS_CXX"), "-std=c++17", "cpp"),
    };
    let source = dir.join(format!("snippet{number}.{extension}"));
    std::fs::write(&source, source_of(snippet)?).expect("the scratch folder is writable");
    let library = support::library_dir();
    let output = Command::new(compiler)
        .arg(standard)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic"])
        .arg(format!("-I{ROOT}/include"))
        .arg(format!("-I{ROOT}/tests/snippets"))
        .arg(&source)
        .arg("-o")
        .arg(dir.join(format!("snippet{number}")))
        .arg(format!("-L{}", library.display()))
        .args(["-lselectors", "-lpthread"])
        .output()
        .expect("the compiler runs");
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{} ({:?}, {:?}):\n{}",
            snippet.origin,
            snippet.language,
            snippet.form,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

#[test]
fn every_example_in_the_readme_and_the_manual_builds() {
    let snippets = all_snippets();
    let dir = std::env::temp_dir().join(format!("selectors-snippets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the scratch folder can be made");
    let mut built = 0;
    let mut failures = Vec::new();
    for (number, snippet) in snippets.iter().enumerate() {
        if snippet.form == Form::Skip {
            continue;
        }
        match build(snippet, &dir, number) {
            Ok(()) => built += 1,
            Err(failure) => failures.push(failure),
        }
    }
    std::fs::remove_dir_all(&dir).expect("the scratch folder can be removed");
    assert!(
        failures.is_empty(),
        "{} of {} examples do not build:\n{}",
        failures.len(),
        built + failures.len(),
        failures.join("\n")
    );
    // The README's example and one per manual page that has EXAMPLES: a parser that found
    // none would prove nothing.
    assert!(built >= 14, "only {built} examples found");
}

#[test]
fn the_extraction_follows_the_convention() {
    let markdown = "text\n```sh\nmake\n```\n<!-- snippet: body -->\n```c\nint x = 1;\n```\n\
                    ```cpp\nint main() {}\n```\n<!-- snippet: skip shell -->\n```c\n$ cc\n```\n";
    let found = markdown_snippets("doc.md", markdown);
    let summary: Vec<_> = found
        .iter()
        .map(|s| (s.origin.as_str(), s.language, &s.form, s.code.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("doc.md:7", Language::C, &Form::Body, "int x = 1;"),
            ("doc.md:10", Language::Cxx, &Form::Program, "int main() {}"),
            ("doc.md:14", Language::C, &Form::Skip, "$ cc"),
        ]
    );
    let page = ".Sh EXAMPLES\n.\\\" snippet: file\n.Bd -literal -offset indent\n\
                printf(\"x\\en\");\n.Ed\n.Bd -literal\nint main(void) { return 0; }\n.Ed\n\
                .\\\" snippet: c++\n.Bd -literal\nint main() {}\n.Ed\n\
                .\\\" snippet: c++ body\n.Bd -literal\nf();\n.Ed\n";
    let found = manual_snippets("page.3", page);
    assert_eq!(found[0].form, Form::File);
    assert_eq!(found[0].code, "printf(\"x\\n\");");
    assert_eq!(found[0].origin, "page.3:4");
    assert_eq!(found[1].form, Form::Program);
    assert_eq!(found[1].language, Language::C);
    assert_eq!(
        (found[2].language, &found[2].form),
        (Language::Cxx, &Form::Program)
    );
    assert_eq!(
        (found[3].language, &found[3].form),
        (Language::Cxx, &Form::Body)
    );
}

#[test]
fn a_fragment_without_its_form_is_refused() {
    let found = markdown_snippets("doc.md", "```c\nint x = 1;\n```\n");
    let error = source_of(&found[0]).unwrap_err();
    assert!(error.contains("not a whole program"), "{error}");
}
