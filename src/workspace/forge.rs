//! Where a remote's address points: GitHub, GitLab or elsewhere, and the
//! pages a person opens there (the compare page of a pushed branch). Pure:
//! text in, text out.

/// The kind of host behind a remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forge {
    GitHub,
    GitLab,
    Other,
}

/// A repository on a forge, read from a remote's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeRepo {
    pub forge: Forge,
    /// `github.com`
    pub host: String,
    /// `OWNER/REPO` (GitLab: `GROUP/SUBGROUP/REPO`), without `.git`.
    pub path: String,
}

impl ForgeRepo {
    /// Reads `https://HOST/OWNER/REPO(.git)`, `ssh://git@HOST(:PORT)/OWNER/REPO`
    /// and `git@HOST:OWNER/REPO(.git)`; `None` for a local path or
    /// anything else.
    pub fn parse(url: &str) -> Option<ForgeRepo> {
        let url = url.trim();
        let (host, path) = if let Some((scheme, rest)) = url.split_once("://") {
            if !matches!(scheme, "https" | "http" | "ssh" | "git") {
                return None;
            }
            let (authority, path) = rest.split_once('/')?;
            let host = authority.rsplit('@').next()?;
            let host = host.split(':').next()?;
            (host, path)
        } else {
            // scp-like: [user@]host:path (never a path with a slash
            // before the colon, which git reads as a local path).
            let (before, path) = url.split_once(':')?;
            if before.contains('/') || before.is_empty() {
                return None;
            }
            (before.rsplit('@').next()?, path)
        };
        let path = path.trim_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        if host.is_empty() || path.split('/').filter(|p| !p.is_empty()).count() < 2 {
            return None;
        }
        let lower = host.to_ascii_lowercase();
        let forge = if lower == "github.com" || lower.starts_with("github.") {
            Forge::GitHub
        } else if lower == "gitlab.com" || lower.starts_with("gitlab.") {
            Forge::GitLab
        } else {
            Forge::Other
        };
        Some(ForgeRepo {
            forge,
            host: lower,
            path: path.to_string(),
        })
    }

    /// The page where a pull request of `branch` into `base` is opened:
    /// GitHub's compare page, GitLab's new merge request; `None` elsewhere.
    pub fn compare_url(&self, base: &str, branch: &str) -> Option<String> {
        match self.forge {
            Forge::GitHub => Some(format!(
                "https://{}/{}/compare/{base}...{branch}",
                self.host, self.path
            )),
            Forge::GitLab => Some(format!(
                "https://{}/{}/-/merge_requests/new?merge_request%5Bsource_branch%5D={branch}&merge_request%5Btarget_branch%5D={base}",
                self.host, self.path
            )),
            Forge::Other => None,
        }
    }

    /// The repository as `gh --repo` and `glab --repo` take it: `OWNER/REPO`
    /// on github.com and gitlab.com, `HOST/OWNER/REPO` elsewhere.
    pub fn repo_arg(&self) -> String {
        if matches!(self.host.as_str(), "github.com" | "gitlab.com") {
            self.path.clone()
        } else {
            format!("{}/{}", self.host, self.path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shapes_of_a_github_address() {
        for url in [
            "https://github.com/acme/api.git",
            "https://github.com/acme/api",
            "git@github.com:acme/api.git",
            "ssh://git@github.com/acme/api.git",
            "https://token@github.com/acme/api/",
        ] {
            let repo = ForgeRepo::parse(url).unwrap_or_else(|| panic!("{url}"));
            assert_eq!(repo.forge, Forge::GitHub, "{url}");
            assert_eq!(repo.path, "acme/api", "{url}");
            assert_eq!(
                repo.compare_url("main", "switchboard/7").as_deref(),
                Some("https://github.com/acme/api/compare/main...switchboard/7"),
                "{url}"
            );
            assert_eq!(repo.repo_arg(), "acme/api");
        }
    }

    #[test]
    fn gitlab_with_subgroups_and_enterprise_hosts() {
        let repo = ForgeRepo::parse("git@gitlab.com:group/sub/api.git").unwrap();
        assert_eq!(repo.forge, Forge::GitLab);
        assert_eq!(repo.path, "group/sub/api");
        let url = repo.compare_url("main", "switchboard/3").unwrap();
        assert!(url.starts_with("https://gitlab.com/group/sub/api/-/merge_requests/new?"));
        assert!(url.contains("source_branch%5D=switchboard/3"), "{url}");
        let ghe = ForgeRepo::parse("https://git.example.com/acme/api").unwrap();
        assert_eq!(ghe.forge, Forge::Other, "a custom host is not guessed");
        let ghe = ForgeRepo::parse("https://github.acme.io/acme/api").unwrap();
        assert_eq!(ghe.forge, Forge::GitHub);
        assert_eq!(ghe.repo_arg(), "github.acme.io/acme/api");
    }

    #[test]
    fn local_paths_are_no_forge() {
        for url in [
            "/srv/git/api.git",
            "../api.git",
            "file:///srv/git/api.git",
            "./a:b",
            "C",
        ] {
            assert_eq!(ForgeRepo::parse(url), None, "{url}");
        }
    }
}
