//! Source-tree rules in the style of rust-analyzer's tidy test: every Rust file opens with a `//!`
//! doc saying what it is for, modules are never `mod.rs`, tests are never ignored, no
//! `dbg!`/`todo!` is left behind, and every workspace member is named in `docs/architecture.md`.
//!
//! The checks are pure functions over file contents so that their own tests can show each rule
//! failing; `tidy_tree` runs them over the real repository as part of the test suite.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// One broken rule, with the file it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) path: PathBuf,
    pub(crate) rule: Rule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    MissingModuleDoc,
    ModRs,
    IgnoredTest,
    DbgMacro,
    TodoMacro,
    CrateNotInArchitectureDoc,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.rule {
            Rule::MissingModuleDoc => {
                "does not start with a `//!` doc comment saying what it is for"
            }
            Rule::ModRs => "is a `mod.rs`: name the module file after the module instead",
            Rule::IgnoredTest => "has an ignored test: fix it or delete it",
            Rule::DbgMacro => "contains a `dbg!` left over from debugging",
            Rule::TodoMacro => "contains a `todo!`: finish the code or return an error",
            Rule::CrateNotInArchitectureDoc => {
                "is a workspace member not named in docs/architecture.md"
            }
        };
        write!(f, "{}: {what}", self.path.display())
    }
}

// Built with concat! so that this file does not trip its own checks.
const IGNORE_ATTR: &str = concat!("#[", "ignore");
const DBG_CALL: &str = concat!("dbg", "!(");
const TODO_CALL: &str = concat!("todo", "!(");

/// Checks one Rust source file.
pub(crate) fn check_file(path: &Path, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut problem = |rule| {
        problems.push(Problem {
            path: path.to_path_buf(),
            rule,
        })
    };
    if !text.starts_with("//!") {
        problem(Rule::MissingModuleDoc);
    }
    if path.file_name().is_some_and(|name| name == "mod.rs") {
        problem(Rule::ModRs);
    }
    if text.contains(IGNORE_ATTR) {
        problem(Rule::IgnoredTest);
    }
    if text.contains(DBG_CALL) {
        problem(Rule::DbgMacro);
    }
    if text.contains(TODO_CALL) {
        problem(Rule::TodoMacro);
    }
    problems
}

/// Checks that every workspace member (by manifest directory, relative to the root, and package
/// name) is named in the architecture document as `` `name` ``.
pub(crate) fn check_architecture_doc(doc: &str, members: &[(PathBuf, String)]) -> Vec<Problem> {
    members
        .iter()
        .filter(|(_, name)| !doc.contains(&format!("`{name}`")))
        .map(|(dir, _)| Problem {
            path: dir.clone(),
            rule: Rule::CrateNotInArchitectureDoc,
        })
        .collect()
}

/// Runs every check over the repository at `root`.
pub(crate) fn check_tree(root: &Path) -> anyhow::Result<Vec<Problem>> {
    let mut problems = Vec::new();
    let mut files = Vec::new();
    collect_rust_files(root, root, &mut files)?;
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let relative = file.strip_prefix(root).unwrap_or(&file);
        problems.extend(check_file(relative, &text));
    }
    let doc_path = root.join("docs/architecture.md");
    let doc = std::fs::read_to_string(&doc_path)
        .with_context(|| format!("reading {}", doc_path.display()))?;
    problems.extend(check_architecture_doc(&doc, &workspace_members(root)?));
    Ok(problems)
}

pub(crate) fn report(problems: &[Problem]) -> anyhow::Result<()> {
    if problems.is_empty() {
        println!("tidy: ok");
        return Ok(());
    }
    for problem in problems {
        eprintln!("tidy: {problem}");
    }
    bail!("tidy found {} problem(s)", problems.len())
}

/// Directories that hold no source of ours.
fn is_skipped_dir(name: &str) -> bool {
    name.starts_with('.') || name.starts_with("target") || name == "node_modules"
}

fn collect_rust_files(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            // Fuzz artifacts and corpora are data, not source.
            let relative = path.strip_prefix(root).unwrap_or(&path);
            if !is_skipped_dir(&name) && !relative.starts_with("fuzz/artifacts") {
                collect_rust_files(root, &path, out)?;
            }
        } else if kind.is_file() && name.ends_with(".rs") {
            out.push(path);
        }
    }
    Ok(())
}

/// Workspace members as (manifest directory relative to the root, package name), from
/// `cargo metadata` so that the list is cargo's own.
fn workspace_members(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let output = Command::new("cargo")
        .current_dir(root)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let packages = metadata["packages"]
        .as_array()
        .context("cargo metadata has no packages")?;
    packages
        .iter()
        .map(|package| {
            let name = package["name"].as_str().context("package without a name")?;
            let manifest = package["manifest_path"]
                .as_str()
                .context("package without a manifest")?;
            let dir = Path::new(manifest)
                .parent()
                .context("manifest without a directory")?;
            let dir = dir.strip_prefix(root).unwrap_or(dir).to_path_buf();
            Ok((dir, name.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(path: &str, text: &str) -> Vec<Rule> {
        check_file(Path::new(path), text)
            .into_iter()
            .map(|p| p.rule)
            .collect()
    }

    #[test]
    fn tidy_tree() {
        let root = crate::workspace_root().unwrap();
        let problems = check_tree(&root).unwrap();
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(problems.is_empty(), "tidy problems:\n{}", listed.join("\n"));
    }

    #[test]
    fn a_documented_file_passes() {
        assert_eq!(
            rules("src/lib.rs", "//! What this is for.\n\nfn f() {}\n"),
            vec![]
        );
    }

    #[test]
    fn a_file_without_module_doc_fails() {
        assert_eq!(
            rules("src/lib.rs", "fn f() {}\n"),
            vec![Rule::MissingModuleDoc]
        );
        // A plain or outer doc comment is not a module doc.
        assert_eq!(
            rules("src/lib.rs", "// note\n//! late\n"),
            vec![Rule::MissingModuleDoc]
        );
        assert_eq!(
            rules("src/lib.rs", "/// item doc\nfn f() {}\n"),
            vec![Rule::MissingModuleDoc]
        );
    }

    #[test]
    fn mod_rs_fails() {
        assert_eq!(
            rules("src/net/mod.rs", "//! Networking.\n"),
            vec![Rule::ModRs]
        );
    }

    #[test]
    fn ignored_test_fails() {
        let text = format!("//! Tests.\n{IGNORE_ATTR}]\n#[test]\nfn slow() {{}}\n");
        assert_eq!(rules("tests/it/slow.rs", &text), vec![Rule::IgnoredTest]);
        let with_reason = format!("//! Tests.\n{IGNORE_ATTR} = \"flaky\"]\nfn t() {{}}\n");
        assert_eq!(
            rules("tests/it/slow.rs", &with_reason),
            vec![Rule::IgnoredTest]
        );
    }

    #[test]
    fn debugging_leftovers_fail() {
        let text = format!("//! Code.\nfn f() {{ {DBG_CALL}1); {TODO_CALL}) }}\n");
        assert_eq!(
            rules("src/lib.rs", &text),
            vec![Rule::DbgMacro, Rule::TodoMacro]
        );
    }

    #[test]
    fn a_crate_missing_from_the_architecture_doc_fails() {
        let members = vec![
            (PathBuf::from("crates/auth"), "auth".to_owned()),
            (PathBuf::from("crates/webhooks"), "webhooks".to_owned()),
        ];
        let doc = "## Code map\n### `auth`\nTokens.\n";
        let problems = check_architecture_doc(doc, &members);
        assert_eq!(
            problems,
            vec![Problem {
                path: PathBuf::from("crates/webhooks"),
                rule: Rule::CrateNotInArchitectureDoc
            }]
        );
        // A bare word is not a mention: names are written as code.
        assert_eq!(
            check_architecture_doc("webhooks and `auth`", &members).len(),
            1
        );
    }

    #[test]
    fn build_output_and_hidden_directories_are_skipped() {
        assert!(is_skipped_dir("target"));
        assert!(is_skipped_dir("target-bench"));
        assert!(is_skipped_dir(".git"));
        assert!(is_skipped_dir("node_modules"));
        assert!(!is_skipped_dir("crates"));
    }
}
