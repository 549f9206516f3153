//! The printed script of a ceremony and its record (`ceremony script`,
//! `ceremony record`): one document model, the steps planned from the
//! ceremony's real parameters, their filling from the audit log, and one
//! HTML renderer for both.

pub mod filling;
pub mod html;
pub mod model;
pub mod plan;
