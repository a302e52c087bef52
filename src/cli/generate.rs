//! Man pages and shell completions, generated from the clap definitions. The checked-in copies
//! under `man/` and `completions/` come from here; `tests/docs` fails when they are stale and
//! `MQKIT_BLESS=1 cargo test --test docs` rewrites them.

use std::io::{self, Write};

use clap::{Command, ValueEnum};
use clap_complete::Shell;

/// What `--generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    /// The roff man page.
    Man,
    /// bash completion.
    Bash,
    /// zsh completion.
    Zsh,
    /// fish completion.
    Fish,
}

impl Generate {
    /// Every kind, in the order the docs test checks them.
    pub const ALL: [Generate; 4] = [Generate::Man, Generate::Bash, Generate::Zsh, Generate::Fish];

    /// Where the checked-in copy for tool `name` lives, relative to the repository root.
    /// `section` is the man section.
    pub fn path(self, name: &str, section: &str) -> String {
        match self {
            Generate::Man => format!("man/{name}.{section}"),
            Generate::Bash => format!("completions/{name}.bash"),
            Generate::Zsh => format!("completions/_{name}"),
            Generate::Fish => format!("completions/{name}.fish"),
        }
    }
}

/// Writes `kind` for `cmd` (man page in `section`) to `out`.
pub fn generate(
    mut cmd: Command,
    section: &str,
    kind: Generate,
    out: &mut impl Write,
) -> io::Result<()> {
    let name = cmd.get_name().to_owned();
    let shell = match kind {
        Generate::Man => {
            let man = clap_mangen::Man::new(cmd).section(section.to_owned());
            return man.render(out);
        }
        Generate::Bash => Shell::Bash,
        Generate::Zsh => Shell::Zsh,
        Generate::Fish => Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, name, out);
    Ok(())
}
