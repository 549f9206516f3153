//! Where checks put their findings, with the bundle and key they concern.

use crate::findings::{CheckCode, DocumentRole, Finding};
use crate::model::{Bundle, Key};

/// Collects the findings of one document.
pub(crate) struct Sink {
    role: DocumentRole,
    pub findings: Vec<Finding>,
}

impl Sink {
    pub fn new(role: DocumentRole) -> Self {
        Self {
            role,
            findings: Vec::new(),
        }
    }

    /// Records a finding, placed in a bundle and at a key when given.
    fn push(&mut self, mut finding: Finding, bundle: Option<(usize, &Bundle)>, key: Option<&Key>) {
        if let Some((number, bundle)) = bundle {
            finding = finding.in_bundle(number, &bundle.id);
        }
        if let Some(key) = key {
            finding = finding.about_key(&key.identifier, key.dnskey.key_tag());
        }
        self.findings.push(finding);
    }

    /// Records an error about the whole document.
    pub fn error(&mut self, code: CheckCode, message: impl Into<String>) {
        self.push(Finding::error(code, self.role, message), None, None);
    }

    /// Records a warning about the whole document.
    pub fn warning(&mut self, code: CheckCode, message: impl Into<String>) {
        self.push(Finding::warning(code, self.role, message), None, None);
    }

    /// Records an error about a bundle (numbered from 1).
    pub fn bundle_error(
        &mut self,
        code: CheckCode,
        number: usize,
        bundle: &Bundle,
        message: impl Into<String>,
    ) {
        self.push(
            Finding::error(code, self.role, message),
            Some((number, bundle)),
            None,
        );
    }

    /// Records a warning about a bundle.
    pub fn bundle_warning(
        &mut self,
        code: CheckCode,
        number: usize,
        bundle: &Bundle,
        message: impl Into<String>,
    ) {
        self.push(
            Finding::warning(code, self.role, message),
            Some((number, bundle)),
            None,
        );
    }

    /// Records an error about a key of a bundle.
    pub fn key_error(
        &mut self,
        code: CheckCode,
        number: usize,
        bundle: &Bundle,
        key: &Key,
        message: impl Into<String>,
    ) {
        self.push(
            Finding::error(code, self.role, message),
            Some((number, bundle)),
            Some(key),
        );
    }

    /// Records a warning about a key of a bundle.
    pub fn key_warning(
        &mut self,
        code: CheckCode,
        number: usize,
        bundle: &Bundle,
        key: &Key,
        message: impl Into<String>,
    ) {
        self.push(
            Finding::warning(code, self.role, message),
            Some((number, bundle)),
            Some(key),
        );
    }

    /// Runs a check unless its switch is off; a check switched off is
    /// never silent (`CHECK-DISABLED`).
    pub fn unless_disabled(
        &mut self,
        enabled: bool,
        codes: &[CheckCode],
        switch: &str,
        check: impl FnOnce(&mut Self),
    ) {
        if enabled {
            check(self);
        } else {
            let codes: Vec<&str> = codes.iter().map(|code| code.as_str()).collect();
            self.warning(
                CheckCode::CheckDisabled,
                format!("{} disabled by {switch} = false", codes.join(", ")),
            );
        }
    }
}
