//! The README and the pages under docs/ link to each other, to headings and to files of the
//! repository: every relative link must lead to a file that exists, and every `#anchor` to a
//! heading of its page (as GitHub names them), so moving a section cannot leave a dead link.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The pages checked: README.md and every docs/*.md.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![Path::new(ROOT).join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    assert!(!docs.is_empty(), "no pages under docs/");
    pages.extend(docs);
    pages
}

/// Text outside fenced code blocks (a `](` in a shell example is no link).
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The targets of the page's Markdown links, `[text](target)`.
fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].trim().to_string());
        }
    }
    out
}

/// GitHub's anchor of a heading: lower case, inline code marks dropped, every character
/// that is not a letter, digit, space, `-` or `_` removed, spaces made `-`; a repeated
/// heading gets `-1`, `-2`, ...
fn anchors(text: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for line in prose(text).lines() {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let slug: String = heading
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut name = slug.clone();
        let mut n = 0;
        while seen.contains(&name) {
            n += 1;
            name = format!("{slug}-{n}");
        }
        seen.insert(name);
    }
    seen
}

/// Every broken link of one page, as "page: target (why)".
fn broken_links(page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(page).unwrap();
    let dir = page.parent().unwrap();
    let name = page
        .strip_prefix(ROOT)
        .unwrap_or(page)
        .display()
        .to_string();
    let mut broken = Vec::new();
    for target in link_targets(&prose(&text)) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target.as_str(), None),
        };
        let file = if path.is_empty() {
            page.to_path_buf()
        } else {
            dir.join(path)
        };
        if !file.exists() {
            broken.push(format!("{name}: {target} (no file {})", file.display()));
            continue;
        }
        if let Some(anchor) = anchor {
            let is_markdown = file.extension().is_some_and(|e| e == "md");
            let found =
                is_markdown && anchors(&std::fs::read_to_string(&file).unwrap()).contains(anchor);
            if !found {
                broken.push(format!("{name}: {target} (no heading #{anchor})"));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_and_anchor_of_the_readme_and_docs_resolves() {
    let mut broken = Vec::new();
    let mut links = 0;
    for page in pages() {
        links += link_targets(&prose(&std::fs::read_to_string(&page).unwrap())).len();
        broken.extend(broken_links(&page));
    }
    assert!(links > 10, "the pages link to each other: {links} links");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_check_finds_a_dead_link_and_a_missing_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.md");
    std::fs::write(
        &page,
        "# The `hallpass` command\n\n## Side by side: FreeRADIUS\n\n\
         [ok](#the-hallpass-command) [ok](#side-by-side-freeradius) [ok](page.md)\n\
         [dead](missing.md) [no anchor](#nowhere)\n\n```sh\necho '[x](not-a-link)'\n```\n",
    )
    .unwrap();
    let broken = broken_links(&page);
    assert_eq!(broken.len(), 2, "{broken:?}");
    assert!(broken[0].contains("missing.md"), "{broken:?}");
    assert!(broken[1].contains("#nowhere"), "{broken:?}");
}
