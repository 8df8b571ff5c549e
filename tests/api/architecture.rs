//! `docs/architecture.md` names every source file: its tree lists each `*.rs` under
//! `src/` at its place, and nothing that is not there.

use std::collections::BTreeSet;
use std::path::Path;

/// The files the tree of `docs/architecture.md` names, as paths from the repository.
/// An entry is a line indented by two spaces per level (at most five levels), whose first
/// word is a folder (`name/`) or a file; the deeper lines of a description are indented
/// further and are not entries.
fn named_in_tree(doc: &str) -> BTreeSet<String> {
    let tree = doc
        .split("```\n")
        .nth(1)
        .expect("the tree is the first code block");
    let mut folders: Vec<&str> = Vec::new();
    let mut named = BTreeSet::new();
    for line in tree.lines() {
        let entry = line.trim_start_matches(' ');
        let indent = line.len() - entry.len();
        let word = entry.split_whitespace().next().unwrap_or_default();
        let is_entry = word.ends_with('/') || word.ends_with(".rs");
        if indent % 2 != 0 || indent > 10 || !is_entry {
            continue;
        }
        folders.truncate(indent / 2);
        if word.ends_with('/') {
            folders.push(word);
        } else {
            named.insert(format!("{}{word}", folders.concat()));
        }
    }
    named
}

fn source_files(dir: &Path, root: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, root, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).unwrap();
            found.insert(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn the_architecture_names_every_source_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/architecture.md")).unwrap();
    let named: BTreeSet<String> = named_in_tree(&doc)
        .into_iter()
        .filter(|path| path.starts_with("src/"))
        .collect();
    let mut files = BTreeSet::new();
    source_files(&root.join("src"), root, &mut files);
    let missing: Vec<_> = files.difference(&named).collect();
    let gone: Vec<_> = named.difference(&files).collect();
    assert!(
        missing.is_empty(),
        "not in docs/architecture.md: {missing:?}"
    );
    assert!(
        gone.is_empty(),
        "in docs/architecture.md, not in src/: {gone:?}"
    );
}
