//! `herald man`: the herald(1) manual page in roff, generated from the
//! command-line definition (`herald man > herald.1; man ./herald.1`). It
//! has the top-level page and a section per subcommand with its options.

use std::process::ExitCode;

use clap::CommandFactory;

#[derive(clap::Args, Debug)]
pub struct ManArgs {}

/// Renders the page.
pub fn render() -> std::io::Result<Vec<u8>> {
    let cmd = super::Cli::command();
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    // The subcommands are sections of this page, not pages of their own.
    out.extend_from_slice(b".SH SUBCOMMANDS\n");
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let about = sub.get_about().map(|a| roff_text(&a.to_string())).unwrap_or_default();
        out.extend_from_slice(format!(".TP\n\\fBherald {}\\fR\n{about}\n", sub.get_name()).as_bytes());
    }
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("herald {}", sub.get_name());
        // Each subcommand: its synopsis and options under its own heading.
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            out.extend_from_slice(format!("{}\n", roff_text(&about.to_string())).as_bytes());
        }
        let sub_man = clap_mangen::Man::new(sub.clone().bin_name(name));
        let mut section = Vec::new();
        sub_man.render_synopsis_section(&mut section)?;
        sub_man.render_options_section(&mut section)?;
        // Demote the sub-page's own headings to subsections.
        let section = String::from_utf8_lossy(&section).replace(".SH ", ".SS ");
        out.extend_from_slice(section.as_bytes());
    }
    out.extend_from_slice(
        b".SH FILES\n.TP\n/etc/herald/herald.toml\nthe configuration (--config, $HERALD_CONFIG)\n.TP\n/var/spool/herald/<account>/\nthe queue: owners drop post files here\n.TP\n/var/lib/herald/state\nthe delivery store\n",
    );
    out.extend_from_slice(b".SH \"SEE ALSO\"\nsystemctl(1), journalctl(1), systemd.exec(5)\n");
    man.render_version_section(&mut out)?;
    Ok(out)
}

/// Plain text safe as a roff paragraph (no leading control characters).
fn roff_text(s: &str) -> String {
    s.lines()
        .map(|l| {
            let l = l.replace('\\', "\\e");
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn run(_args: ManArgs) -> ExitCode {
    use std::io::Write;
    match render() {
        Ok(page) => {
            let _ = std::io::stdout().lock().write_all(&page);
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(1, &e.into()),
    }
}
