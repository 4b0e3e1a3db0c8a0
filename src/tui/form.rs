//! The dispatch form: a project picker (or a path, on first run), the agent
//! profile, a priority, the jobs it waits for (`--after`) and a multi-line
//! prompt. Tab moves between fields,
//! ←/→ choose, Enter adds a line to the prompt, Ctrl-S submits, Esc
//! cancels. Pure: keys in, a request out.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::TextArea;

/// The form's fields, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Project,
    Path,
    Agent,
    Priority,
    /// The jobs it waits for: ids, comma-separated (`dispatch --after`).
    After,
    Prompt,
}

/// The label of the agent choice that leaves it to the project.
pub const PROJECT_AGENT: &str = "project's default";

/// A job for the journal, as the operator filled it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchRequest {
    /// A registered project's name, or a repository path.
    pub project: String,
    pub agent: Option<String>,
    pub priority: i64,
    /// The jobs it waits for, as typed (checked when it is dispatched,
    /// as `dispatch --after` is).
    pub after: Vec<i64>,
    pub prompt: String,
}

/// Why the room could not dispatch a request, in the command line's
/// words, and the field that holds the fix when the refusal names one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchRefused {
    pub why: String,
    pub field: Option<Field>,
}

impl From<&str> for DispatchRefused {
    fn from(why: &str) -> DispatchRefused {
        DispatchRefused {
            why: why.to_string(),
            field: None,
        }
    }
}

/// What a key did to the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormOutcome {
    Editing,
    Cancelled,
    Submitted(DispatchRequest),
}

#[derive(Debug, Clone)]
pub struct DispatchForm {
    pub field: Field,
    /// Registered projects, then "a path…".
    pub projects: Vec<String>,
    pub project: usize,
    /// A repository path, when the last project choice is taken.
    pub path: TextArea<'static>,
    /// PROJECT_AGENT, then every profile.
    pub agents: Vec<String>,
    pub agent: usize,
    pub priority: TextArea<'static>,
    /// Job ids to wait for, comma-separated; empty: it may start at once.
    pub after: TextArea<'static>,
    pub prompt: TextArea<'static>,
    /// Why the last submit was refused.
    pub error: Option<String>,
    /// Profiles whose program is not installed: marked in the picker (a
    /// job given one fails at once, saying how to install it).
    pub missing: Vec<String>,
    /// The request went out and its answer has not come back: the form
    /// says so, and another Ctrl-S sends nothing.
    pub sending: bool,
}

/// The project choice that means "type a path".
pub const A_PATH: &str = "a path…";

impl DispatchForm {
    /// A new form; `here` (the current directory, if it is a repository)
    /// fills the path when no project is registered yet.
    pub fn new(
        projects: &[String],
        profiles: &[String],
        here: Option<&str>,
        priority: i64,
    ) -> DispatchForm {
        let mut choices = projects.to_vec();
        choices.push(A_PATH.to_string());
        let mut agents = vec![PROJECT_AGENT.to_string()];
        agents.extend(profiles.iter().cloned());
        let first_run = projects.is_empty();
        let at_end = |text: String| {
            let mut area = TextArea::new(vec![text]);
            area.move_cursor(ratatui_textarea::CursorMove::End);
            area
        };
        DispatchForm {
            // The prompt first, always: on a first run the path is filled
            // in from the current directory when it is a repository.
            field: Field::Prompt,
            projects: choices,
            project: 0,
            path: at_end(here.filter(|_| first_run).unwrap_or_default().to_string()),
            agents,
            agent: 0,
            priority: at_end(priority.to_string()),
            after: {
                let mut area = TextArea::default();
                area.set_placeholder_text("none; or job ids, such as 3,7");
                area
            },
            prompt: TextArea::default(),
            error: None,
            missing: Vec::new(),
            sending: false,
        }
    }

    /// The request was refused: the form stays, with every word the
    /// operator typed, the whole reason, and the cursor where the fix
    /// goes: `at` when the refusal names a field, else the prompt when it
    /// is empty, else the path when one was typed.
    pub fn refused(&mut self, why: String, at: Option<Field>) {
        match at {
            Some(field) => self.field = field,
            None if self.prompt.lines().join("").trim().is_empty() => self.field = Field::Prompt,
            None if self.wants_path() => self.field = Field::Path,
            None => {}
        }
        self.sending = false;
        self.error = Some(why);
    }

    /// The agent choice as the picker shows it: a profile that is not
    /// installed says so.
    pub fn agent_label(&self) -> String {
        let name = self.agents.get(self.agent).cloned().unwrap_or_default();
        if self.missing.contains(&name) {
            format!("{name} (not installed)")
        } else {
            name
        }
    }

    /// Whether the path field is in use.
    pub fn wants_path(&self) -> bool {
        self.projects.get(self.project).map(String::as_str) == Some(A_PATH)
    }

    fn fields(&self) -> Vec<Field> {
        let mut fields = vec![Field::Project];
        if self.wants_path() {
            fields.push(Field::Path);
        }
        fields.extend([Field::Agent, Field::Priority, Field::After, Field::Prompt]);
        fields
    }

    fn step(&mut self, forward: bool) {
        let fields = self.fields();
        let i = fields.iter().position(|f| *f == self.field).unwrap_or(0);
        let n = fields.len();
        self.field = fields[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    /// One key.
    pub fn key(&mut self, key: KeyEvent) -> FormOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return FormOutcome::Cancelled,
            KeyCode::Char('s') if ctrl && self.sending => return FormOutcome::Editing,
            KeyCode::Char('s') if ctrl => return self.submit(),
            KeyCode::Tab => self.step(true),
            KeyCode::BackTab => self.step(false),
            KeyCode::Enter if self.field != Field::Prompt => self.step(true),
            _ => match self.field {
                Field::Project | Field::Agent => {
                    let (index, len) = if self.field == Field::Project {
                        (&mut self.project, self.projects.len())
                    } else {
                        (&mut self.agent, self.agents.len())
                    };
                    match key.code {
                        KeyCode::Left | KeyCode::Up | KeyCode::Char('h') | KeyCode::Char('k') => {
                            *index = (*index + len - 1) % len
                        }
                        KeyCode::Right
                        | KeyCode::Down
                        | KeyCode::Char('l')
                        | KeyCode::Char('j')
                        | KeyCode::Char(' ') => *index = (*index + 1) % len,
                        _ => {}
                    }
                }
                Field::Path => {
                    self.path.input(key);
                }
                Field::Priority => match key.code {
                    KeyCode::Char(c) if !(c.is_ascii_digit() || c == '-') => {}
                    _ => {
                        self.priority.input(key);
                    }
                },
                Field::After => {
                    self.after.input(key);
                }
                Field::Prompt => {
                    self.prompt.input(key);
                }
            },
        }
        FormOutcome::Editing
    }

    fn submit(&mut self) -> FormOutcome {
        let prompt = self.prompt.lines().join("\n").trim().to_string();
        let project = if self.wants_path() {
            let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
            expand_tilde(self.path.lines().join("").trim(), home.as_deref())
        } else {
            self.projects[self.project].clone()
        };
        let priority = self.priority.lines().join("");
        let refuse = |form: &mut DispatchForm, field, why: &str| {
            form.field = field;
            form.error = Some(why.to_string());
            FormOutcome::Editing
        };
        // Only what the form reads from its typing (as the command line
        // reads its arguments); every check of the task itself is the one
        // `dispatch` makes (`cli::queue_task::queue`), in its words.
        let Ok(priority) = priority.trim().parse::<i64>() else {
            return refuse(self, Field::Priority, "the priority is a whole number");
        };
        // Read as `dispatch --after` reads them.
        let after = match crate::scheduler::parse_after(&self.after.lines().join("")) {
            Ok(after) => after,
            Err(why) => return refuse(self, Field::After, &why),
        };
        // Sent once: a second Ctrl-S waits for the answer to the first.
        self.sending = true;
        FormOutcome::Submitted(DispatchRequest {
            project,
            agent: (self.agent > 0).then(|| self.agents[self.agent].clone()),
            priority,
            after,
            prompt,
        })
    }
}

/// `~` and `~/…` in a typed path, as a shell would expand them; other
/// paths (and `~user`) as typed.
pub fn expand_tilde(path: &str, home: Option<&std::path::Path>) -> String {
    match (path.strip_prefix('~'), home) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with('/') => {
            format!("{}{rest}", home.display())
        }
        _ => path.to_string(),
    }
}
