//! The kcat-like subcommands.

pub mod connect;
pub mod consume;
pub mod group;
pub mod metadata;
pub mod offsets;
pub mod produce;
pub mod topic;

use crate::settings::Settings;

/// The bootstrap brokers: `-b`/`RAFKA_BROKERS`, else `bootstrap.servers` from `-F`/`-X`.
///
/// # Errors
/// When neither is given.
pub fn bootstrap(brokers: Option<String>, settings: &Settings) -> anyhow::Result<String> {
    brokers
        .or_else(|| settings.get("bootstrap.servers").map(str::to_string))
        .filter(|b| !b.trim().is_empty())
        .ok_or_else(|| anyhow::anyhow!("no brokers: pass -b HOST:PORT or set RAFKA_BROKERS"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Origin;

    #[test]
    fn flag_beats_properties_and_absence_is_an_error() {
        let mut s = Settings::new();
        assert!(bootstrap(None, &s)
            .unwrap_err()
            .to_string()
            .contains("-b HOST:PORT"));
        s.set("bootstrap.servers", "p:1", Origin::Flag);
        assert_eq!(bootstrap(None, &s).unwrap(), "p:1");
        assert_eq!(bootstrap(Some("f:2".into()), &s).unwrap(), "f:2");
    }
}
