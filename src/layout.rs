//! The crate map in `lib.rs` is the layout: a module uses only modules on the floors below
//! its own. This reads the map's floors and every module's imports and holds one to the
//! other, so the map cannot drift from the code.

use std::{collections::BTreeSet, fs, path::Path};

/// The map's floors, top first: the modules each bullet of `lib.rs`'s doc names.
fn floors(lib: &str) -> Vec<Vec<String>> {
    lib.lines()
        .filter_map(|line| line.strip_prefix("//! - "))
        .map(|bullet| {
            let names = bullet.split("[`").skip(1);
            names
                .filter_map(|rest| rest.split_once("`]").map(|(name, _)| name.to_owned()))
                .collect()
        })
        .collect()
}

/// The modules `lib.rs` declares.
fn declared(lib: &str) -> BTreeSet<String> {
    lib.lines()
        .filter_map(|line| line.trim().strip_prefix("pub mod "))
        .map(|name| name.trim_end_matches(';').to_owned())
        .collect()
}

/// Every source file of module `name`: `src/name.rs` and everything under `src/name/`
/// (its submodules, whichever way the module is laid out).
fn sources(src: &Path, name: &str) -> Vec<String> {
    let file = src.join(format!("{name}.rs"));
    let mut out: Vec<String> = fs::read_to_string(file).into_iter().collect();
    let mut dirs: Vec<_> = Some(src.join(name))
        .filter(|d| d.is_dir())
        .into_iter()
        .collect();
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(fs::read_to_string(path).unwrap());
            }
        }
    }
    out
}

/// The crate's modules a source file uses outside its tests: every `crate::name` and each
/// top-level name in `use crate::{…}`.
fn uses(source: &str) -> BTreeSet<String> {
    let code = source
        .split("#[cfg(test)]\nmod ")
        .next()
        .unwrap_or_default();
    let code: String = code
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => found.extend(top_level_names(group)),
            None => {
                found.insert(ident(rest));
            }
        }
    }
    found.remove("");
    found
}

/// The first identifier of `text`.
fn ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The first name of each item of a `{…}` group (its text after the `{`).
fn top_level_names(group: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            c if item_start && !c.is_whitespace() => {
                names.push(ident(&group[i..]));
                item_start = false;
            }
            _ => {}
        }
    }
    names
}

#[test]
fn every_module_uses_only_the_floors_below_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let floors = floors(&lib);
    let floor_of = |name: &str| floors.iter().position(|f| f.iter().any(|m| m == name));
    let mapped: BTreeSet<String> = floors.iter().flatten().cloned().collect();
    assert_eq!(
        mapped,
        declared(&lib),
        "the map names every module, and only those"
    );
    let mut upward = Vec::new();
    for (floor, modules) in floors.iter().enumerate() {
        for module in modules {
            for source in sources(&src, module) {
                for used in uses(&source) {
                    match floor_of(&used) {
                        Some(below) if below > floor => {}
                        Some(_) if used == *module => {}
                        Some(_) => upward.push(format!("{module} uses {used}")),
                        None => {}
                    }
                }
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(
        upward.is_empty(),
        "imports that go up or across the map: {upward:?}"
    );
}

#[test]
fn imports_are_read_from_paths_and_groups() {
    let source = "use crate::{a::B, c, d::{e, f}};\nfn g() { crate::h::i(); } // crate::j\n";
    let found: Vec<String> = uses(source).into_iter().collect();
    assert_eq!(found, ["a", "c", "d", "h"]);
}
