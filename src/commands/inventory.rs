//! `shrinkwatch inventory diff BEFORE AFTER`: argument glue around
//! [`inventory::diff`](crate::inventory::diff): read both listings, diff
//! them into the output folder, print the summary; exit 1 when any object
//! was lost or shrunk.

use super::Outcome;
use crate::cli::{InventoryArgs, InventoryCommand};
use crate::inventory::diff;
use anyhow::Result;
use std::time::Instant;

/// Folders shown in the terminal summary.
const TOP: usize = 10;

/// Runs an `inventory` subcommand.
pub fn run(args: &InventoryArgs) -> Result<Outcome> {
    match &args.command {
        InventoryCommand::Diff(a) => {
            let started = Instant::now();
            let mut found = None;
            super::write_folder(&a.out, "inventory-diff", started, |dir| {
                let (before, after, s) = diff::run(&a.before, &a.after, a.group_depth, dir)?;
                print!("{}", diff::render(&before, &after, &s, TOP));
                found = Some(s.any());
                Ok(())
            })?;
            Ok(if found == Some(true) {
                Outcome::NewLoss
            } else {
                Outcome::Clean
            })
        }
    }
}
