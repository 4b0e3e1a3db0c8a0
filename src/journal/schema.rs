//! The journal's schema, versioned with SQLite's `user_version`. Each entry
//! of [`MIGRATIONS`] moves a journal one version forward; a journal is
//! migrated when it is opened, inside one `BEGIN IMMEDIATE` transaction, so
//! two processes opening an old journal at once migrate it once.

/// Version N is reached by running `MIGRATIONS[N - 1]`.
pub const MIGRATIONS: &[&str] = &[
    // 1: projects, jobs and their attempts, events and operator commands.
    r#"
    CREATE TABLE projects (
        name        TEXT PRIMARY KEY,
        path        TEXT NOT NULL UNIQUE,
        base_branch TEXT NOT NULL,
        agent       TEXT,
        max_agents  INTEGER NOT NULL DEFAULT 1,
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE jobs (
        id           INTEGER PRIMARY KEY, -- never reused: jobs are never deleted
        kind         TEXT NOT NULL,
        state        TEXT NOT NULL,
        state_since  INTEGER NOT NULL,
        not_before   INTEGER,
        attempt      INTEGER,
        state_reason TEXT,
        project      TEXT,
        title        TEXT NOT NULL,
        prompt       TEXT NOT NULL,
        agent        TEXT,
        priority     INTEGER NOT NULL DEFAULT 0,
        attempts     INTEGER NOT NULL DEFAULT 0,
        progress     INTEGER,
        note         TEXT,
        reason       TEXT,
        ticket_key   TEXT,
        chain_id     INTEGER,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    );
    CREATE INDEX jobs_by_state ON jobs(state);
    CREATE UNIQUE INDEX jobs_one_per_ticket ON jobs(ticket_key) WHERE ticket_key IS NOT NULL;
    CREATE UNIQUE INDEX jobs_one_per_chain ON jobs(chain_id) WHERE chain_id IS NOT NULL;
    CREATE TABLE attempts (
        id          INTEGER PRIMARY KEY,
        job_id      INTEGER NOT NULL REFERENCES jobs(id),
        number      INTEGER NOT NULL,
        session     TEXT NOT NULL,
        worktree    TEXT,
        branch      TEXT,
        base_commit TEXT,
        started_at  INTEGER NOT NULL,
        ended_at    INTEGER,
        exit_code   INTEGER,
        restarts    INTEGER NOT NULL DEFAULT 0,
        UNIQUE (job_id, number)
    );
    CREATE TABLE events (
        id      INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,
        job_id  INTEGER,
        kind    TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX events_by_job ON events(job_id, id);
    CREATE TABLE commands (
        id      INTEGER PRIMARY KEY,
        at      INTEGER NOT NULL,
        kind    TEXT NOT NULL,
        job_id  INTEGER,
        text    TEXT,
        state   TEXT NOT NULL DEFAULT 'pending',
        result  TEXT,
        done_at INTEGER
    );
    CREATE INDEX commands_pending ON commands(state) WHERE state = 'pending';
    "#,
    // 2: intake and the review queue. A task becomes a job at once (the job
    // row is its record); a ticket message is kept in `messages` (every
    // update, for forwarding and replay) and folded into `tickets`; an alarm
    // is kept in `alarms`, one row a message, until the scheduler chains it.
    // Messages that could not be read are kept in `rejected` with the reason.
    r#"
    CREATE TABLE messages (
        id           INTEGER PRIMARY KEY,
        received_at  INTEGER NOT NULL,
        kind         TEXT NOT NULL,
        source       TEXT NOT NULL,
        body         TEXT NOT NULL,
        job_id       INTEGER,
        processed_at INTEGER
    );
    CREATE TABLE tickets (
        key        TEXT PRIMARY KEY,
        project    TEXT,
        title      TEXT NOT NULL,
        body       TEXT NOT NULL,
        job_id     INTEGER,
        first_at   INTEGER NOT NULL,
        latest_at  INTEGER NOT NULL,
        updates    INTEGER NOT NULL DEFAULT 0,
        forwarded  INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE alarms (
        id          INTEGER PRIMARY KEY,
        account     TEXT NOT NULL,
        name        TEXT NOT NULL,
        state       TEXT NOT NULL,
        at          INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        reason      TEXT,
        region      TEXT,
        chain_id    INTEGER
    );
    CREATE TABLE chains (
        id        INTEGER PRIMARY KEY,
        account   TEXT NOT NULL,
        first_at  INTEGER NOT NULL,
        latest_at INTEGER NOT NULL,
        alarms    INTEGER NOT NULL DEFAULT 0,
        resolved  INTEGER NOT NULL DEFAULT 0,
        job_id    INTEGER
    );
    CREATE INDEX chains_by_account ON chains(account, latest_at);
    CREATE TABLE rejected (
        id          INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,
        source      TEXT NOT NULL,
        line        INTEGER,
        reason      TEXT NOT NULL,
        raw         BLOB NOT NULL
    );
    CREATE TABLE review_items (
        job_id     INTEGER PRIMARY KEY REFERENCES jobs(id),
        attempt    INTEGER NOT NULL,
        project    TEXT NOT NULL,
        branch     TEXT NOT NULL,
        state      TEXT NOT NULL DEFAULT 'ready',
        files      INTEGER NOT NULL DEFAULT 0,
        insertions INTEGER NOT NULL DEFAULT 0,
        deletions  INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
    );
    "#,
    // 3: what agents (and their hooks) report about themselves.
    r#"
    CREATE TABLE reports (
        id       INTEGER PRIMARY KEY,
        at       INTEGER NOT NULL,
        job_id   INTEGER NOT NULL,
        status   TEXT,
        progress INTEGER,
        message  TEXT,
        source   TEXT NOT NULL
    );
    CREATE INDEX reports_by_job ON reports(job_id, id);
    "#,
    // 4: deliveries from the network (an SNS or SQS MessageId), so that a
    // message delivered again is not journaled twice.
    r#"
    CREATE TABLE deliveries (
        id     TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        at     INTEGER NOT NULL
    );
    "#,
    // 5: hosts. A project belongs to one host (NULL: the engine's own
    // machine), and a path is unique per host, not across them (the table
    // is rebuilt: SQLite cannot drop a UNIQUE constraint). Hosts registered
    // with `host add` live in `hosts` (config.toml may add more);
    // `host_health` keeps each host's reachability as the SSH side last
    // found it (a row per host, rewritten on a change in kind).
    r#"
    CREATE TABLE projects_v5 (
        name        TEXT PRIMARY KEY,
        path        TEXT NOT NULL,
        base_branch TEXT NOT NULL,
        agent       TEXT,
        max_agents  INTEGER NOT NULL DEFAULT 1,
        created_at  INTEGER NOT NULL,
        host        TEXT
    );
    INSERT INTO projects_v5 (name, path, base_branch, agent, max_agents, created_at, host)
        SELECT name, path, base_branch, agent, max_agents, created_at, NULL FROM projects;
    DROP TABLE projects;
    ALTER TABLE projects_v5 RENAME TO projects;
    CREATE UNIQUE INDEX projects_by_place ON projects(coalesce(host, ''), path);
    CREATE TABLE hosts (
        name           TEXT PRIMARY KEY,
        address        TEXT NOT NULL,
        max_agents     INTEGER,
        identity       TEXT,
        accept_new_key INTEGER NOT NULL DEFAULT 0,
        created_at     INTEGER NOT NULL
    );
    CREATE TABLE host_health (
        host   TEXT PRIMARY KEY,
        state  TEXT NOT NULL,
        since  INTEGER NOT NULL,
        error  TEXT
    );
    "#,
    // 6: where each alarm and ticket message came from (the intake, its
    // label and the id of its delivery), for `jobs ID`. A ticket keeps
    // where its first message came from.
    r#"
    ALTER TABLE alarms ADD COLUMN intake TEXT;
    ALTER TABLE alarms ADD COLUMN source TEXT;
    ALTER TABLE alarms ADD COLUMN delivery TEXT;
    ALTER TABLE messages ADD COLUMN intake TEXT;
    ALTER TABLE messages ADD COLUMN delivery TEXT;
    ALTER TABLE tickets ADD COLUMN intake TEXT;
    ALTER TABLE tickets ADD COLUMN source TEXT;
    ALTER TABLE tickets ADD COLUMN delivery TEXT;
    "#,
    // 7: where a review item's approved work went on the remote (`push`,
    // `pr`, `mr`), the pull request's address and its last known state.
    r#"
    ALTER TABLE review_items ADD COLUMN delivery_kind TEXT;
    ALTER TABLE review_items ADD COLUMN delivery_remote TEXT;
    ALTER TABLE review_items ADD COLUMN delivery_url TEXT;
    ALTER TABLE review_items ADD COLUMN delivery_state TEXT;
    ALTER TABLE review_items ADD COLUMN delivery_checked_at INTEGER;
    "#,
    // 8: jobs that wait for each other (`dispatch --after`): a job starts
    // once every job it waits for is merged.
    r#"
    CREATE TABLE job_after (
        job_id   INTEGER NOT NULL REFERENCES jobs(id),
        after_id INTEGER NOT NULL REFERENCES jobs(id),
        PRIMARY KEY (job_id, after_id)
    ) WITHOUT ROWID;
    CREATE INDEX job_after_by_after ON job_after(after_id);
    "#,
    // 9: review comments: a line of a review item's diff and what the
    // operator says of it, sent to the agent with the next rejection.
    r#"
    CREATE TABLE review_comments (
        id      INTEGER PRIMARY KEY,
        job_id  INTEGER NOT NULL REFERENCES jobs(id),
        path    TEXT NOT NULL,
        line    INTEGER NOT NULL,
        text    TEXT NOT NULL,
        at      INTEGER NOT NULL,
        sent_at INTEGER
    );
    CREATE INDEX review_comments_by_job ON review_comments(job_id, id);
    "#,
    // 10: partial indexes on what is still pending, so that an engine pass
    // reads what waits and not the whole history: jobs not over, alarms
    // not chained, ticket messages not processed, review items waiting for
    // the operator. Each holds only its pending rows; the queries that use
    // them repeat their WHERE clause word for word (SQLite uses a partial
    // index only then), and `src/journal/plan_tests.rs` checks the plans.
    r#"
    CREATE INDEX jobs_open ON jobs(id)
        WHERE state NOT IN ('done', 'killed') AND NOT (state = 'failed' AND reason IS NOT NULL);
    CREATE INDEX alarms_unadmitted ON alarms(id) WHERE chain_id IS NULL;
    CREATE INDEX messages_unprocessed ON messages(id) WHERE kind = 'ticket' AND processed_at IS NULL;
    CREATE INDEX review_items_waiting ON review_items(job_id) WHERE state IN ('ready', 'conflict');
    "#,
    // 11: the review items delivered to a remote, which the engine follows
    // at every idle interval (see 10).
    r#"
    CREATE INDEX review_items_delivered ON review_items(job_id) WHERE state = 'delivered';
    "#,
    // 12: the newest report taken from each remote agent's pane, by its
    // number there (remote::report): reports are journaled once each,
    // after an engine restart too, whatever the host's clock says.
    r#"
    CREATE TABLE pane_marks (
        job_id  INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        pane    TEXT NOT NULL,
        seq     INTEGER NOT NULL,
        PRIMARY KEY (job_id, attempt)
    );
    "#,
    // 13: the commit a review item's branch pointed at when its work was
    // committed: the room's approve names it, and the engine merges
    // nothing if the branch moved on since.
    r#"
    ALTER TABLE review_items ADD COLUMN head TEXT;
    "#,
];

/// The version a journal has after every migration.
pub const LATEST: i64 = MIGRATIONS.len() as i64;
