//! Tidy checks, as rust-analyzer has: what the compiler cannot see about the
//! layout. Every source file has a `//!` doc; a layer only uses the layers
//! below it (the order in `src/lib.rs`); modules form no import cycle; only
//! the Discord front end knows serenity and poise; anyhow stays in `cli` and
//! the Discord front end (poise's error type); the engine does no async.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first: a layer may use itself and those before it.
const LAYERS: [&str; 8] = ["engine", "config", "quality", "serving", "ops", "conversation", "frontend", "cli"];

/// One source file: its module path (`ops::storage`) and its text.
struct Module {
    path: String,
    text: String,
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

fn crate_modules() -> Vec<Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .iter()
        .map(|file| {
            let relative = file.strip_prefix(&src).unwrap().with_extension("");
            let parts: Vec<String> = relative.iter().map(|part| part.to_string_lossy().into_owned()).collect();
            let parts: Vec<&str> = parts.iter().map(String::as_str).filter(|part| *part != "mod").collect();
            Module { path: parts.join("::"), text: std::fs::read_to_string(file).unwrap() }
        })
        .collect()
}

/// The `crate::…` paths a module's code names (comment lines aside), one
/// per leaf of a grouped import: `use crate::{a::b, c::{d, e}};`, even over
/// several lines, names `a::b`, `c::d` and `c::e`.
fn crate_references(text: &str) -> Vec<String> {
    let code: Vec<&str> = text.lines().filter(|line| !line.trim_start().starts_with("//")).collect();
    let code = code.join("\n");
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        // `$crate::` in macros is the same crate; any other prefix is not a crate path.
        if code[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let mut rest = &code[at + "crate::".len()..];
        use_tree("", &mut rest, &mut found);
    }
    found.retain(|path| !path.is_empty());
    found
}

/// Reads one use tree (`a::b`, `a::{b, c::d}`, `a as b`, `a::*`, `self`)
/// from the start of `rest`, pushing each leaf's path under `prefix`, and
/// leaves `rest` after it. A path outside a `use` (`crate::f::<T>()`)
/// reads as far as its names go.
fn use_tree(prefix: &str, rest: &mut &str, found: &mut Vec<String>) {
    let mut path = prefix.to_string();
    loop {
        skip_blank(rest);
        if let Some(group) = rest.strip_prefix('{') {
            *rest = group;
            use_group(&path, rest, found);
            return;
        }
        // A glob imports from the path so far.
        if let Some(after) = rest.strip_prefix('*') {
            *rest = after;
            break;
        }
        let name = take_identifier(rest);
        // `self` in a group names the path so far.
        if !name.is_empty() && name != "self" {
            path = if path.is_empty() { name.to_string() } else { format!("{path}::{name}") };
        }
        match rest.strip_prefix("::") {
            Some(after) if !name.is_empty() => *rest = after,
            _ => break,
        }
    }
    // `a as b` imports `a`.
    let after = rest.trim_start();
    if let Some(renamed) = after.strip_prefix("as").filter(|renamed| renamed.starts_with(char::is_whitespace)) {
        let mut renamed = renamed.trim_start();
        take_identifier(&mut renamed);
        *rest = renamed;
    }
    found.push(path);
}

/// Reads the trees of a group up to its closing brace, `rest` starting
/// after the opening one.
fn use_group(prefix: &str, rest: &mut &str, found: &mut Vec<String>) {
    loop {
        skip_blank(rest);
        if let Some(after) = rest.strip_prefix('}') {
            *rest = after;
            return;
        }
        let before = rest.len();
        use_tree(prefix, rest, found);
        skip_blank(rest);
        match rest.strip_prefix(',') {
            Some(after) => *rest = after,
            // Not a use tree after all: stop rather than read the same text again.
            None if rest.len() == before => return,
            None => {}
        }
    }
}

/// Takes the identifier `rest` starts with (empty when none).
fn take_identifier<'a>(rest: &mut &'a str) -> &'a str {
    let text: &'a str = rest;
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
    *rest = &text[end..];
    &text[..end]
}

/// Skips whitespace and `//` comments (inside a multi-line group).
fn skip_blank(rest: &mut &str) {
    loop {
        let trimmed = rest.trim_start();
        match trimmed.strip_prefix("//") {
            Some(comment) => *rest = comment.split_once('\n').map_or("", |(_, after)| after),
            None => {
                *rest = trimmed;
                return;
            }
        }
    }
}

fn layer_of(module: &str) -> Option<usize> {
    let top = module.split("::").next()?;
    LAYERS.iter().position(|layer| *layer == top)
}

/// The longest module of `known` that `reference` starts with.
fn resolve<'a>(reference: &str, known: &'a BTreeSet<String>) -> Option<&'a String> {
    known
        .iter()
        .filter(|module| reference == module.as_str() || reference.starts_with(&format!("{module}::")))
        .max_by_key(|m| m.len())
}

fn is_ancestor(ancestor: &str, module: &str) -> bool {
    module.starts_with(&format!("{ancestor}::"))
}

/// Every import of a higher layer, as "from → to".
fn layer_violations(modules: &[Module]) -> Vec<String> {
    let mut violations = Vec::new();
    for module in modules {
        let Some(layer) = layer_of(&module.path) else { continue };
        for reference in crate_references(&module.text) {
            if let Some(used) = layer_of(&reference).filter(|used| *used > layer) {
                violations
                    .push(format!("{} ({}) uses crate::{reference} ({})", module.path, LAYERS[layer], LAYERS[used]));
            }
        }
    }
    violations
}

/// Import cycles between modules (a module and its own submodules aside), as paths.
fn import_cycles(modules: &[Module]) -> Vec<String> {
    let known: BTreeSet<String> = modules.iter().map(|module| module.path.clone()).collect();
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for module in modules {
        for reference in crate_references(&module.text) {
            if let Some(used) = resolve(&reference, &known) {
                let related =
                    used == &module.path || is_ancestor(used, &module.path) || is_ancestor(&module.path, used);
                if !related {
                    edges.entry(&module.path).or_default().insert(used);
                }
            }
        }
    }
    let mut cycles = Vec::new();
    for start in edges.keys() {
        // Depth-first from `start`, looking for a way back to it.
        let mut stack = vec![(*start, vec![*start])];
        let mut seen = BTreeSet::new();
        while let Some((at, path)) = stack.pop() {
            for next in edges.get(at).into_iter().flatten() {
                if next == start {
                    cycles.push(format!("{} → {start}", path.join(" → ")));
                } else if seen.insert(*next) {
                    let mut longer = path.clone();
                    longer.push(next);
                    stack.push((next, longer));
                }
            }
        }
    }
    cycles
}

#[test]
fn layers_only_use_the_layers_below() {
    let violations = layer_violations(&crate_modules());
    assert!(violations.is_empty(), "upward imports:\n{}", violations.join("\n"));
}

#[test]
fn no_import_cycles() {
    let cycles = import_cycles(&crate_modules());
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_checks_catch_a_reversed_import_and_a_cycle() {
    let module = |path: &str, text: &str| Module { path: path.into(), text: text.into() };
    let synthetic = [
        module("engine::answer", "use crate::frontend::discord::Data;\n// use crate::cli::x; is a comment"),
        module("ops::telemetry", "use crate::ops::storage::Storage;"),
        module("ops::storage", "fn f() { crate::ops::telemetry::send() }"),
        module("cli", "use crate::engine::answer;"),
    ];
    assert_eq!(
        layer_violations(&synthetic),
        ["engine::answer (engine) uses crate::frontend::discord::Data (frontend)"]
    );
    let cycles = import_cycles(&synthetic);
    assert!(cycles.iter().any(|cycle| cycle == "ops::storage → ops::telemetry → ops::storage"), "{cycles:?}");
}

/// Before, `use crate::{…}` read as one empty path, so an upward import
/// inside a group (or a multi-line one) went unseen.
#[test]
fn grouped_and_multi_line_imports_are_read_leaf_by_leaf() {
    let text = "use crate::{engine::answer, frontend::discord::{self, Data as D}};\n\
                use crate::ops::{\n    // why\n    events::*,\n    storage::{Storage, StorageError},\n};\n\
                fn f() -> usize { crate::engine::text::count::<u8>(\"\") as usize }";
    assert_eq!(
        crate_references(text),
        [
            "engine::answer",
            "frontend::discord",
            "frontend::discord::Data",
            "ops::events",
            "ops::storage::Storage",
            "ops::storage::StorageError",
            "engine::text::count",
        ]
    );
    let grouped = Module {
        path: "engine::answer".into(),
        text: "use crate::{\n    engine::text::count,\n    cli::{output::line},\n};".into(),
    };
    assert_eq!(layer_violations(&[grouped]), ["engine::answer (engine) uses crate::cli::output::line (cli)"]);
}

#[test]
fn every_source_file_has_a_module_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests/it", "benches"] {
        rust_files(&root.join(dir), &mut files);
    }
    let undocumented: Vec<String> = files
        .iter()
        .filter(|file| !std::fs::read_to_string(file).unwrap().trim_start().starts_with("//!"))
        .map(|file| file.strip_prefix(root).unwrap().display().to_string())
        .collect();
    assert!(undocumented.is_empty(), "files without a //! doc: {undocumented:?}");
}

#[test]
fn only_the_discord_front_end_knows_serenity_and_the_engine_does_no_async() {
    for module in crate_modules() {
        let code: String = module.text.lines().filter(|line| !line.trim_start().starts_with("//")).collect();
        if !module.path.starts_with("frontend::discord") {
            assert!(
                !code.contains("serenity") && !code.contains("poise"),
                "{} mentions serenity or poise",
                module.path
            );
        }
        if !module.path.starts_with("cli") && !module.path.starts_with("frontend::discord") {
            assert!(!code.contains("anyhow"), "{} uses anyhow: library layers use thiserror types", module.path);
        }
        if module.path.starts_with("engine") {
            assert!(!code.contains("tokio") && !code.contains("async "), "{} does async work", module.path);
        }
    }
}

/// Issue 24: a mention, a forum post, `/ask`, the Apps menu and `chat` each
/// make one call, `answering::deliver`, which answers, applies the reply
/// policy, sends and records; no front end answers or records a question
/// on its own.
#[test]
fn front_ends_answer_questions_only_through_the_one_delivery_path() {
    let mut delivering = BTreeSet::new();
    for module in crate_modules().iter().filter(|module| module.path.starts_with("frontend")) {
        let code: String = module.text.lines().filter(|line| !line.trim_start().starts_with("//")).collect();
        for bypass in ["answer_after(", "answering::answer(", "answer::ask", ".question(", "question_span("] {
            assert!(!code.contains(bypass), "{} answers or records a question itself ({bypass})", module.path);
        }
        if code.contains("answering::deliver(") {
            delivering.insert(module.path.clone());
        }
    }
    let expected = ["frontend::discord::events", "frontend::discord::slash", "frontend::terminal"];
    assert_eq!(delivering, expected.iter().map(|path| path.to_string()).collect());
}
