//! The demo's sample organisation: one group, its members, one external contact, labels.

use serde_json::json;

use qunguan_simulator::Simulator;

/// A member of the sample group.
pub struct Member {
    pub staff_id: &'static str,
    pub name: &'static str,
    /// Why this member may or may not change settings, in English and Chinese.
    pub role: [&'static str; 2],
}

pub const CHATID: &str = "chat5d1c8e2f0a9b4c7d8e3f1a2b6c9d0e4f";
pub const CID: &str = "cidDemoQ3kY1v7Tq8mXwP2aB9+/dQ==";
pub const GROUP_NAME: &str = "群管演示群 · qunguan demo";
pub const OWNER: &str = "owner01";
pub const MEMBER: &str = "member02";
/// Listed in `QUNGUAN_ADMINS`.
pub const IT_ADMIN: &str = "itadmin03";
pub const CONTACT: &str = "ext001";

pub const MEMBERS: [Member; 3] = [
    Member {
        staff_id: OWNER,
        name: "张伟",
        role: [
            "群主 (group owner): may change settings",
            "group owner: may change settings",
        ],
    },
    Member {
        staff_id: MEMBER,
        name: "李娜",
        role: ["普通成员 (member): may only read", "member: may only read"],
    },
    Member {
        staff_id: IT_ADMIN,
        name: "王芳",
        role: [
            "QUNGUAN_ADMINS 中的管理员: may change settings",
            "in QUNGUAN_ADMINS: may change settings",
        ],
    },
];

/// The display name of `staff_id`, if it is a member.
pub fn name_of(staff_id: &str) -> Option<&'static str> {
    MEMBERS
        .iter()
        .find(|m| m.staff_id == staff_id)
        .map(|m| m.name)
}

/// `(staffId, name)` of every member, for rendering @mentions.
pub fn mentions() -> Vec<(&'static str, &'static str)> {
    MEMBERS.iter().map(|m| (m.staff_id, m.name)).collect()
}

/// Fills `sim` with the sample organisation.
pub fn populate(sim: &Simulator) {
    let ids: Vec<&str> = MEMBERS.iter().map(|m| m.staff_id).collect();
    sim.add_group(CHATID, CID, GROUP_NAME, OWNER, &ids);
    sim.set_label_groups(&[
        ("客户等级", &[(101, "重点客户"), (102, "普通客户")]),
        ("来源", &[(201, "展会"), (202, "转介绍")]),
    ]);
    sim.add_contact(json!({
        "userid": CONTACT, "name": "陈杰", "title": "采购经理",
        "company_name": "杭州云杉科技有限公司", "address": "杭州市西湖区文三路 90 号",
        "remark": "2026 年展会认识", "follower_user_id": OWNER, "label_ids": [102, 201],
        "share_user_ids": [MEMBER], "share_dept_ids": [],
        "mobile": "13800001234", "state_code": "86", "email": "chenjie@example.com"
    }));
}
