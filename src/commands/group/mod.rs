//! Administering the group itself: the commands of this directory change the group in
//! DingTalk (settings, name, members, owner, admins, nicknames) or share its join link.
//!
//! Every change that goes through group/update takes [`crate::group`]'s one write path
//! ([`crate::commands::Context::change_group`]): the group's turn, chat/get fresh, all six
//! switches sent back. Removing members and transferring ownership wait for `/confirm`
//! ([`pending`]).

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
