//! Generated documentation for the package: the man page and the shell completions, both
//! built from the same clap definitions the binary parses (`crate::cli::args::Cli`), so they
//! cannot drift from the real command line. Owns only the rendering; it never reads config,
//! touches the network or decides where the output goes (the caller passes a writer).

use std::io::Write;

use clap::CommandFactory;

use crate::cli::args::Cli;

pub use clap_complete::Shell;

/// Writes the roff source of `hallpass(1)`, with a section per subcommand (packaged as
/// /usr/share/man/man1/hallpass.1.gz).
pub fn man_page(out: &mut impl Write) -> std::io::Result<()> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    render_subcommands(&cmd, out)?;
    render_files(out)?;
    man.render_version_section(out)?;
    Ok(())
}

/// A COMMANDS section with one subsection per visible subcommand: its synopsis, description
/// and options. clap_mangen's own subcommand list only has names and one-line summaries; an
/// admin reading `man hallpass` needs the arguments of `serve` and `check` too.
fn render_subcommands(cmd: &clap::Command, out: &mut impl Write) -> std::io::Result<()> {
    let visible: Vec<&clap::Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    if visible.is_empty() {
        return Ok(());
    }
    writeln!(out, ".SH COMMANDS")?;
    for sub in visible {
        let full_name = format!("{} {}", cmd.get_name(), sub.get_name());
        writeln!(out, ".SS \"{full_name}\"")?;
        let man = clap_mangen::Man::new(sub.clone().bin_name(full_name));
        let mut body = Vec::new();
        man.render_synopsis_section(&mut body)?;
        man.render_description_section(&mut body)?;
        man.render_options_section(&mut body)?;
        out.write_all(&without_section_headings(&body))?;
    }
    Ok(())
}

/// Turns the `.SH` headings (SYNOPSIS, DESCRIPTION, OPTIONS) of a rendered subcommand into
/// paragraph breaks, so its text nests under the subcommand's own `.SS` heading instead of
/// starting new top-level sections.
fn without_section_headings(roff: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(roff);
    let mut kept = String::with_capacity(text.len());
    for line in text.lines() {
        kept.push_str(if line.starts_with(".SH ") {
            ".PP"
        } else {
            line
        });
        kept.push('\n');
    }
    kept.into_bytes()
}

/// Where the Debian package puts things, for the admin who reads `man hallpass` first.
fn render_files(out: &mut impl Write) -> std::io::Result<()> {
    let files = [
        (
            "/etc/hallpass/",
            "the config directory: hallpass.toml, users, devices, bans, grants",
        ),
        (
            "/etc/hallpass/secrets/",
            "RADIUS shared secrets referenced by secret_file",
        ),
        (
            "/var/lib/hallpass/",
            "runtime state (SQLite): sessions, DHCP sightings, decision log",
        ),
        (
            "hallpass.service",
            "the systemd unit; `systemctl reload hallpass` checks, then reloads",
        ),
    ];
    writeln!(out, ".SH FILES")?;
    for (path, what) in files {
        writeln!(out, ".TP\n\\fI{path}\\fR\n{what}")?;
    }
    Ok(())
}

/// Writes the completion script for `shell` (packaged for bash, zsh and fish).
pub fn completions(shell: Shell, out: &mut impl Write) {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_owned();
    clap_complete::generate(shell, &mut cmd, name, out);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn man_text() -> String {
        let mut out = Vec::new();
        man_page(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn completion_text(shell: Shell) -> String {
        let mut out = Vec::new();
        completions(shell, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn man_page_names_the_program_and_its_subcommands() {
        let man = man_text();
        assert!(man.contains(".TH hallpass 1"), "title: {man}");
        assert!(man.contains("hallpass"));
        assert!(man.contains("serve"));
        assert!(man.contains("check"));
    }

    #[test]
    fn man_page_documents_subcommand_options() {
        let man = man_text();
        // `serve --config` defaults to the packaged config directory.
        assert!(man.contains(".SH COMMANDS"), "{man}");
        assert!(man.contains(".SS \"hallpass serve\""), "{man}");
        assert!(man.contains(".SS \"hallpass check\""), "{man}");
        // The subcommands' own headings must not break out of COMMANDS.
        assert_eq!(man.matches(".SH SYNOPSIS").count(), 1, "{man}");
        assert!(man.contains("/etc/hallpass"), "serve's default: {man}");
        assert!(man.contains("\\-\\-config"), "{man}");
        assert!(man.contains(".SH FILES\n"), "{man}");
        assert!(man.contains("/var/lib/hallpass"), "{man}");
    }

    #[test]
    fn only_section_headings_are_dropped() {
        let roff = b".SH SYNOPSIS\nfoo\n.SHX not a heading\n.SH OPTIONS\n.TP\n";
        let out = String::from_utf8(without_section_headings(roff)).unwrap();
        assert_eq!(out, ".PP\nfoo\n.SHX not a heading\n.PP\n.TP\n");
    }

    #[test]
    fn completions_mention_every_subcommand() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = completion_text(shell);
            assert!(script.contains("hallpass"), "{shell}: {script}");
            assert!(script.contains("serve"), "{shell}: {script}");
            assert!(script.contains("check"), "{shell}: {script}");
            assert!(script.contains("config"), "{shell}: {script}");
        }
    }

    #[test]
    fn completions_are_shell_specific() {
        assert!(completion_text(Shell::Bash).contains("complete -F"));
        assert!(completion_text(Shell::Zsh).starts_with("#compdef hallpass"));
        assert!(completion_text(Shell::Fish).contains("complete -c hallpass"));
    }
}
