//! Administering the group itself: the commands of this directory change the group in
//! DingTalk (settings, name, members, owner, admins, nicknames) or share its join link.
//!
//! Each command reads chat/get fresh before a group/update and sends all six settings
//! with it ([`settings::fresh`]): group/update resets a setting it is not sent. Removing
//! members and transferring ownership wait for `/confirm` ([`pending`]).

pub mod add;
pub mod admins;
pub mod confirm;
pub mod invite_link;
pub mod kick;
pub mod members;
pub mod mute;
pub mod nick;
pub mod owner;
pub mod pending;
pub mod rename;
pub mod set;
pub mod settings;
