//! The book (`book/src/`) against the code: the table of contents lists every chapter, every
//! link and image points to something that exists, every `{{#include}}` names an existing file
//! and anchor, every chapter with a `rust` block is doctested, and every output block marked
//! `<!-- output: EXAMPLE ARGS; … -->` is what that example prints (its lines appear in order in
//! the example's output, for each command listed).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn book() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("book/src")
}

fn chapters() -> Vec<(String, String)> {
    let mut all: Vec<_> = std::fs::read_dir(book())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| {
            let text = std::fs::read_to_string(book().join(&name)).unwrap();
            (name, text)
        })
        .collect();
    all.sort();
    all
}

/// The targets of markdown links and images: `](target)`.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("](") {
        rest = &rest[start + 2..];
        if let Some(end) = rest.find(')') {
            targets.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    targets
}

/// mdBook's id for a heading: lower case, spaces to dashes, other punctuation dropped.
fn heading_id(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn heading_ids(text: &str) -> BTreeSet<String> {
    text.lines().filter_map(|l| l.strip_prefix('#')).map(|h| heading_id(h.trim_start_matches('#'))).collect()
}

#[test]
fn the_table_of_contents_lists_every_chapter_and_nothing_else() {
    let summary = std::fs::read_to_string(book().join("SUMMARY.md")).unwrap();
    let listed: BTreeSet<String> = link_targets(&summary).into_iter().collect();
    let files: BTreeSet<String> = chapters().into_iter().map(|(name, _)| name).filter(|n| n != "SUMMARY.md").collect();
    assert_eq!(listed, files, "SUMMARY.md and book/src/*.md differ");
}

#[test]
fn every_link_image_and_anchor_exists() {
    let texts: Vec<_> = chapters();
    for (name, text) in &texts {
        for target in link_targets(text) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            let (file, anchor) = target.split_once('#').map_or((target.as_str(), None), |(f, a)| (f, Some(a)));
            let file = if file.is_empty() { name.as_str() } else { file };
            let path = book().join(file);
            assert!(path.exists(), "{name}: link to {target}: {} does not exist", path.display());
            if let Some(anchor) = anchor {
                let linked = std::fs::read_to_string(&path).unwrap();
                assert!(heading_ids(&linked).contains(anchor), "{name}: link to {target}: no heading with that id");
            }
        }
    }
}

#[test]
fn every_include_names_an_existing_file_and_anchor() {
    let mut includes = 0;
    for (name, text) in chapters() {
        for line in text.lines().filter_map(|l| l.trim().strip_prefix("{{#include ")) {
            let spec = line.strip_suffix("}}").unwrap_or_else(|| panic!("{name}: unterminated include {line}"));
            let (file, anchor) = spec.split_once(':').map_or((spec, None), |(f, a)| (f, Some(a)));
            let path = book().join(file);
            let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: include {file}: {e}"));
            if let Some(anchor) = anchor {
                assert!(source.contains(&format!("ANCHOR: {anchor}\n")), "{name}: {file} has no ANCHOR: {anchor}");
                assert!(
                    source.contains(&format!("ANCHOR_END: {anchor}\n")),
                    "{name}: {file} has no ANCHOR_END: {anchor}"
                );
            }
            includes += 1;
        }
    }
    assert!(includes > 10, "only {includes} includes found: is the parser still right?");
}

#[test]
fn every_chapter_with_rust_code_is_doctested() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).unwrap();
    for (name, text) in chapters() {
        if text.contains("```rust\n") {
            assert!(
                lib.contains(&format!("include_str!(\"../book/src/{name}\")")),
                "{name} has rust blocks but src/lib.rs does not doctest it"
            );
        }
    }
}

/// Runs `cargo run --example NAME -- ARGS` and returns its standard output.
fn run_example(command: &str) -> String {
    let mut words = command.split_whitespace();
    let example = words.next().expect("an example name");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--quiet", "--example", example, "--"])
        .args(words)
        .env_remove("PARAPOOL_BACKEND")
        .env_remove("PARAPOOL_WORKERS")
        .env_remove("PARAPOOL_OPTIONS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{command}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Whether `block`'s lines appear in `output`, in order.
fn in_order(block: &[&str], output: &str) -> bool {
    let mut lines = output.lines();
    block.iter().all(|wanted| lines.any(|line| line == *wanted))
}

#[test]
fn every_output_block_is_what_its_example_prints() {
    let mut checked = 0;
    for (name, text) in chapters() {
        let mut rest = text.as_str();
        while let Some(start) = rest.find("<!-- output: ") {
            rest = &rest[start + "<!-- output: ".len()..];
            let end = rest.find("-->").unwrap_or_else(|| panic!("{name}: unterminated output comment"));
            let commands = rest[..end].trim().to_owned();
            let after = &rest[end + 3..];
            let block = after
                .trim_start()
                .strip_prefix("```text\n")
                .unwrap_or_else(|| panic!("{name}: `<!-- output: {commands} -->` is not followed by a text block"));
            let block: Vec<&str> = block[..block.find("```").unwrap()].lines().collect();
            for command in commands.split(';').map(str::trim) {
                let output = run_example(command);
                assert!(in_order(&block, &output), "{name}: `{command}` printed\n{output}\nnot the book's\n{block:#?}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} output checks: is the parser still right?");
}
