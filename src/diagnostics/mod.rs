//! Our YAML files (mappings, test suites) as their authors see them: where a node is (line and
//! column) and how each scalar was written, what a parse error means and where the mistake is,
//! and the one collector every check reports its problems to.
//!
//! Below [`crate::mapping`] and [`crate::suite`], which both use it; it knows neither.

pub(crate) mod errors;
mod location;
pub(crate) mod yaml;

pub use location::Location;
pub(crate) use location::{LocationIndex, Written};
pub use yaml::MAX_YAML_DEPTH;
pub(crate) use yaml::NO_VALUE;

/// One problem found while checking a file: the field path it is at (`claims[2].when`), what
/// it is about when the file's format knows (a mapping's rule), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Found<A> {
    /// The field, as a path.
    pub(crate) path: String,
    /// What the problem is about, beyond its field (a mapping's rule).
    pub(crate) about: Option<A>,
    /// What is wrong.
    pub(crate) message: String,
}

/// Where every check of a file reports: problems (the file is refused) and warnings (allowed,
/// probably a mistake). Problems are kept by field path; they are located in the text once, at
/// the end, on the error path only.
#[derive(Debug)]
pub(crate) struct Problems<A = ()> {
    /// Problems, in the order found.
    pub(crate) found: Vec<Found<A>>,
    /// Warnings, in the order found.
    pub(crate) warnings: Vec<Found<A>>,
}

impl<A> Default for Problems<A> {
    fn default() -> Self {
        Problems {
            found: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

impl<A: Clone> Problems<A> {
    /// A problem at `path`.
    pub(crate) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.found.push(Found {
            path: path.into(),
            about: None,
            message: message.into(),
        });
    }

    /// A warning at `path`.
    pub(crate) fn warn(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Found {
            path: path.into(),
            about: None,
            message: message.into(),
        });
    }

    /// Runs `check`, attributing to `about` what it reports about nothing in particular; returns
    /// what `check` returns and whether it found a problem.
    pub(crate) fn about<T>(&mut self, about: &A, check: impl FnOnce(&mut Self) -> T) -> (T, bool) {
        let (problems, warnings) = (self.found.len(), self.warnings.len());
        let out = check(self);
        for found in self.found[problems..]
            .iter_mut()
            .chain(&mut self.warnings[warnings..])
        {
            found.about.get_or_insert_with(|| about.clone());
        }
        (out, self.found.len() > problems)
    }
}
